/** JSON helpers of the runtime: dot paths, record ids, canonical serialization and hashing. */
import { createHash } from 'node:crypto';

/** A JSON object as read from a source. */
export type JSONObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dot-separated `path` (e.g. `data.items`) of `value`, or undefined. */
export function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * The record id of `record` at `path` as a string, or undefined when it has none usable (not a
 * string or number, or empty): such a record cannot be keyed, so it is never written.
 */
export function recordId(record: JSONObject, path: string): string | undefined {
  const value = getPath(record, path);
  if ((typeof value !== 'string' && typeof value !== 'number') || value === '') return undefined;
  return String(value);
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJSON(value[key])}`).join(',')}}`;
  }
  // JSON.stringify returns undefined for undefined, functions and symbols despite its type.
  const text = JSON.stringify(value) as string | undefined;
  return text ?? 'null';
}

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `base` (which may carry a path prefix) joined with `path` (starting with `/`). */
export function joinURL(base: string, path: string): URL {
  return new URL(base.replace(/\/+$/, '') + path);
}
