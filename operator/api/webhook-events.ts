/**
 * Where the object is in a provider's event body. Pure: no I/O.
 * (Placeholder of the lead; the schemes helper's version replaces it.)
 */
import type { WebhookScheme } from './webhook.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function at(body: unknown, path: string): unknown {
  let value = body;
  for (const part of path.split('.')) value = isObject(value) ? value[part] : undefined;
  return value;
}

/** Where the object is in a parsed event body: spec.webhook.objectPath, or the scheme default. */
export function eventObject(
  scheme: WebhookScheme,
  body: unknown,
  eventType: string,
  objectPath?: string,
): Record<string, unknown> | undefined {
  const path =
    objectPath ??
    {
      stripe: 'data.object',
      shopify: '',
      standard: 'data',
      github: eventType.split('.')[0]?.replace(/s$/, '') ?? '',
    }[scheme];
  const value = path === '' ? body : at(body, path);
  return isObject(value) ? value : undefined;
}
