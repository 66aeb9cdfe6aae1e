/**
 * The record contract (`spec.schema`, a JSON Schema subset): validation of each record, top-level
 * and nested fields alike (paths.ts). Schema drift against it lives in schema-drift.ts.
 */
import type { z } from 'zod';
import type { FieldSchema, RecordSchema as RecordSchemaZ } from '../api/index.ts';
import { SyncError } from './errors.ts';
import type { JSONObject } from './json.ts';
import { compilePath, type Resolved } from './paths.ts';

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

/** One contracted field, compiled: its path resolver, contract and pattern. */
interface CompiledField {
  name: string;
  field: Field;
  resolve: (record: JSONObject) => Resolved;
  pattern: RegExp | undefined;
}

function compilePattern(name: string, field: Field): RegExp | undefined {
  if (field.pattern === undefined) return undefined;
  try {
    return new RegExp(field.pattern, 'u');
  } catch {
    throw new SyncError(
      'Configuration',
      `schema.properties.${name}.pattern is not a valid regular expression`,
    );
  }
}

/**
 * Compiles `schema` (paths and patterns once); an invalid pattern is a Configuration error.
 * A property may name a nested field by path (`billing.address.city`, `lines[].sku`,
 * see paths.ts): every value found there must conform, and a required path must be present
 * in every object on the way (an empty array has nothing to require).
 */
export function compileSchema(schema: RecordSchema | undefined): RecordValidator {
  const fields: CompiledField[] = Object.entries(schema?.properties ?? {}).map(([name, field]) => ({
    name,
    field,
    resolve: compilePath(name),
    pattern: compilePattern(name, field),
  }));
  const required = (schema?.required ?? []).map((name) => ({ name, resolve: compilePath(name) }));
  return {
    check(record) {
      for (const { name, resolve } of required) {
        if (resolve(record).missing) return `${name}: is required`;
      }
      for (const { name, field, resolve, pattern } of fields) {
        for (const value of resolve(record).values) {
          const problem = fieldProblem(value, field, pattern);
          if (problem !== undefined) return `${name}: ${problem}`;
        }
      }
      return undefined;
    },
  };
}
