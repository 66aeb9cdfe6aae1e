/**
 * Where a webhook event carries its object (the record a delivery writes in payload mode, or
 * whose id fetch mode re-reads). Pure: no I/O, no crypto.
 */
import type { WebhookScheme } from './webhook.ts';

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The event's object in a parsed body: at `objectPath` (spec.webhook.objectPath, dot-separated)
 * when given, else the scheme's default: stripe `data.object`, shopify the body itself, standard
 * `data`, github the field named after the event (the part of `eventType` before the first '.'),
 * or its singular (`issues` → `issue`). `undefined` when that is not a JSON object.
 */
export function eventObject(
  scheme: WebhookScheme,
  body: unknown,
  eventType: string,
  objectPath?: string,
): JsonObject | undefined {
  if (objectPath !== undefined) return at(body, objectPath.split('.'));
  switch (scheme) {
    case 'stripe':
      return at(body, ['data', 'object']);
    case 'shopify':
      return isObject(body) ? body : undefined;
    case 'standard':
      return at(body, ['data']);
    case 'github':
      return githubObject(body, eventType);
  }
}

/** The object at `path` in `value`, if it is one. */
function at(value: unknown, path: readonly string[]): JsonObject | undefined {
  let current = value;
  for (const key of path) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return isObject(current) ? current : undefined;
}

/** GitHub names the payload's object after the event: `pull_request`, `issues` → `issue`. */
function githubObject(body: unknown, eventType: string): JsonObject | undefined {
  const event = eventType.split('.')[0] ?? '';
  if (event === '') return undefined;
  const singular = event.endsWith('s') ? event.slice(0, -1) : undefined;
  return at(body, [event]) ?? (singular === undefined ? undefined : at(body, [singular]));
}
