/**
 * The fingerprint of a record for drift checks: a hash of its contracted fields, so that the two
 * systems compare equal exactly when what the Integration promises to carry is equal.
 *
 * Contracted fields are the keys of `spec.schema.properties` when the schema lists any (a
 * nested path such as `billing.address.city` picks the value there; `lines[].sku` the list of
 * them). Without them every top-level field counts except the volatile ones, which storage
 * systems add or rewrite on their own and which therefore never match a source record:
 * - any field whose name starts with `_` (`_id`, `_rev`, `_etag`, `_links`, `_meta`, `__v`:
 *   storage and hypermedia metadata by convention);
 * - {@link VOLATILE_FIELDS}: entity tags and the time a copy was stored or synced.
 * `updated_at` and the like are not volatile: they come from the source and are data.
 */
import { hash } from 'node:crypto';
import type { RecordSchema } from '../schema.ts';
import { canonicalJSON, type JSONObject } from '../json.ts';
import { compilePath, ELEMENTS } from '../paths.ts';

/** Top-level fields left out of a fingerprint when the schema lists no properties. */
export const VOLATILE_FIELDS: ReadonlySet<string> = new Set([
  'etag',
  'synced_at',
  'syncedAt',
  'stored_at',
  'storedAt',
  'ingested_at',
  'ingestedAt',
  'received_at',
  'receivedAt',
]);

/** Characters of a fingerprint: 128 bits of SHA-256 in base64url. */
export const FINGERPRINT_LENGTH = 22;

/** The contracted field names of `schema`, or undefined when every non-volatile field counts. */
export function contractedFields(schema: RecordSchema | undefined): readonly string[] | undefined {
  const names = Object.keys(schema?.properties ?? {});
  return names.length > 0 ? names.sort() : undefined;
}

/** True for a field the fingerprint ignores when there is no contract. */
export function isVolatile(field: string): boolean {
  return field.startsWith('_') || VOLATILE_FIELDS.has(field);
}

/**
 * The fingerprint of `record`: SHA-256 (first 128 bits, base64url) of the canonical JSON of its
 * `fields` (absent fields left out), or of all its non-volatile fields when `fields` is undefined.
 * Key order never matters; a changed value, type, or a field present on one side only does.
 */
export function fingerprint(record: JSONObject, fields: readonly string[] | undefined): string {
  const picked: JSONObject = {};
  if (fields === undefined) {
    for (const [key, value] of Object.entries(record)) if (!isVolatile(key)) picked[key] = value;
  } else {
    for (const key of fields) {
      if (Object.hasOwn(record, key)) picked[key] = record[key];
      else if (isNested(key)) pickNested(record, key, picked);
    }
  }
  return hash('sha256', canonicalJSON(picked), 'base64url').slice(0, FINGERPRINT_LENGTH);
}

function isNested(key: string): boolean {
  return key.includes('.') || key.includes(ELEMENTS);
}

/** Picks the value at a nested `path` (all of them, as a list, through arrays), if any. */
function pickNested(record: JSONObject, path: string, picked: JSONObject): void {
  const { values } = compilePath(path)(record);
  if (values.length === 0) return;
  picked[path] = path.includes(ELEMENTS) ? values : values[0];
}
