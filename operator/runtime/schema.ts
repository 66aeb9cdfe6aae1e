/**
 * The record contract (`spec.schema`, a JSON Schema subset): validation of each record, and
 * schema drift — top-level fields seen in live records but not contracted (`added`), and
 * contracted fields never seen in a run that read records (`removed`).
 */
import type { z } from 'zod';
import type { FieldSchema, RecordSchema as RecordSchemaZ } from '../api/index.ts';
import { SyncError } from './errors.ts';
import type { JSONObject } from './json.ts';

/** The record contract of an Integration. */
export type RecordSchema = z.infer<typeof RecordSchemaZ>;
type Field = z.infer<typeof FieldSchema>;

const FORMATS: Readonly<Record<NonNullable<Field['format']>, (value: string) => boolean>> = {
  'date-time': (v) =>
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v) &&
    Number.isFinite(Date.parse(v)),
  date: (v) =>
    /^\d{4}-\d{2}-\d{2}$/.test(v) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
  email: (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v),
  uri: (v) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(v) && URL.canParse(v),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
};

/** The JSON type of a value as the schema names it (`integer` for whole numbers). */
function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Why `value` breaks `field`, or undefined when it conforms. */
function fieldProblem(
  value: unknown,
  field: Field,
  pattern: RegExp | undefined,
): string | undefined {
  if (value === null) return field.nullable === true ? undefined : 'must not be null';
  const actual = jsonType(value);
  const typeOK = actual === field.type || (field.type === 'number' && actual === 'integer');
  if (!typeOK || (typeof value === 'number' && !Number.isFinite(value))) {
    return `must be of type ${field.type}, got ${actual}`;
  }
  if (typeof value !== 'string') return undefined;
  if (field.enum !== undefined && !field.enum.includes(value)) {
    return `must be one of ${field.enum.slice(0, 5).join(', ')}${field.enum.length > 5 ? ', …' : ''}`;
  }
  if (field.format !== undefined && !FORMATS[field.format](value))
    return `must be a valid ${field.format}`;
  if (pattern !== undefined && !pattern.test(value)) return `must match ${field.pattern ?? ''}`;
  return undefined;
}

/** A compiled record contract. */
export interface RecordValidator {
  /** Why `record` breaks the contract, naming the field; undefined when it conforms. */
  check(record: JSONObject): string | undefined;
}

/** Compiles `schema` (patterns once); an invalid pattern is a Configuration error. */
export function compileSchema(schema: RecordSchema | undefined): RecordValidator {
  const properties = Object.entries(schema?.properties ?? {});
  const patterns = new Map<string, RegExp>();
  for (const [name, field] of properties) {
    if (field.pattern === undefined) continue;
    try {
      patterns.set(name, new RegExp(field.pattern, 'u'));
    } catch {
      throw new SyncError(
        'Configuration',
        `schema.properties.${name}.pattern is not a valid regular expression`,
      );
    }
  }
  const required = schema?.required ?? [];
  return {
    check(record) {
      for (const name of required) {
        if (record[name] === undefined) return `${name}: is required`;
      }
      for (const [name, field] of properties) {
        if (record[name] === undefined) continue;
        const problem = fieldProblem(record[name], field, patterns.get(name));
        if (problem !== undefined) return `${name}: ${problem}`;
      }
      return undefined;
    },
  };
}

/** Most field names tracked, so a source with unbounded keys cannot exhaust memory. */
const MAX_TRACKED_FIELDS = 1024;
/** Most names reported per list (the result allows 32). */
const MAX_REPORTED = 32;

/** Schema drift of one run: what live records carry compared with `schema.properties`. */
export class SchemaDrift {
  readonly #contracted: ReadonlySet<string>;
  readonly #seen = new Set<string>();
  #records = 0;

  /** Compares against `schema.properties`; without properties there is no contract to drift from. */
  constructor(schema: RecordSchema | undefined) {
    this.#contracted = new Set(Object.keys(schema?.properties ?? {}));
  }

  /** Notes the top-level fields of one live record. */
  observe(record: JSONObject): void {
    this.#records++;
    for (const key of Object.keys(record)) {
      if (this.#seen.size >= MAX_TRACKED_FIELDS) break;
      this.#seen.add(key);
    }
  }

  /**
   * Fields added (seen, not contracted) and, when `complete` (a whole pass was read) and at
   * least one record was, fields removed (contracted, never seen); sorted, at most 32 each.
   */
  report(complete: boolean): { added?: string[]; removed?: string[] } | undefined {
    if (this.#contracted.size === 0 || this.#records === 0) return undefined;
    const added = [...this.#seen]
      .filter((f) => !this.#contracted.has(f))
      .map((f) => f.slice(0, 256))
      .sort();
    const removed = complete ? [...this.#contracted].filter((f) => !this.#seen.has(f)).sort() : [];
    if (added.length === 0 && removed.length === 0) return undefined;
    return {
      ...(added.length > 0 ? { added: added.slice(0, MAX_REPORTED) } : {}),
      ...(removed.length > 0 ? { removed: removed.slice(0, MAX_REPORTED) } : {}),
    };
  }
}
