/**
 * Field paths of records, as `spec.schema.properties` names them: object keys joined by dots
 * (`billing.address.city`), and `[]` for the elements of an array (`lines[].sku`). A name
 * without `.` or `[]` is a top-level field, as before; a top-level key that itself contains a
 * dot is matched literally first.
 */
import { isObject, type JSONObject } from './json.ts';

/** The suffix that stands for every element of an array. */
export const ELEMENTS = '[]';

/** The path of `key` under `parent` (`''` is the record itself). */
export function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** The path one level up: `a.b` → `a`, `a[]` → `a`, `a` → `''` (the record). */
export function parentPath(path: string): string {
  if (path.endsWith(ELEMENTS)) return path.slice(0, -ELEMENTS.length);
  const dot = path.lastIndexOf('.');
  return dot < 0 ? '' : path.slice(0, dot);
}

/** Every proper ancestor of `path`, nearest first, the record itself (`''`) excluded. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let up = parentPath(path); up !== ''; up = parentPath(up)) out.push(up);
  return out;
}

/** How deep `path` is: its number of dot-separated segments (`[]` adds none). */
export function pathDepth(path: string): number {
  return path.split('.').length;
}

/** One step of a path: an object key, or every element of an array. */
type Step = { key: string } | typeof ELEMENTS;

function steps(path: string): Step[] {
  const out: Step[] = [];
  for (const segment of path.split('.')) {
    let key = segment;
    let elements = 0;
    while (key.endsWith(ELEMENTS)) {
      key = key.slice(0, -ELEMENTS.length);
      elements++;
    }
    out.push({ key });
    for (let i = 0; i < elements; i++) out.push(ELEMENTS);
  }
  return out;
}

/** What a path finds in one record. */
export interface Resolved {
  /** Every value at the path (one per array element passed through), undefined ones left out. */
  values: unknown[];
  /** True when an object on the way lacks the next key (the field is absent somewhere). */
  missing: boolean;
}

/**
 * Compiles `path` into a resolver. Values that are neither objects nor arrays where the path goes
 * on (null, a string) end that branch without counting as missing: the parent's own contract
 * judges them.
 */
export function compilePath(path: string): (record: JSONObject) => Resolved {
  const plan = steps(path);
  const nested = plan.length > 1;
  return (record) => {
    if (!nested || Object.hasOwn(record, path)) {
      const value = record[path];
      return { values: value === undefined ? [] : [value], missing: value === undefined };
    }
    let current: unknown[] = [record];
    let missing = false;
    for (const step of plan) {
      const next: unknown[] = [];
      for (const value of current) {
        if (step === ELEMENTS) {
          if (Array.isArray(value)) next.push(...(value as unknown[]));
        } else if (isObject(value)) {
          if (value[step.key] === undefined) missing = true;
          else next.push(value[step.key]);
        }
      }
      current = next;
    }
    return { values: current, missing };
  };
}
