/**
 * Schema drift of one run: which fields live records carry compared with `spec.schema.properties`,
 * top-level and nested, as dotted paths (paths.ts: `billing.address.city`, `lines[].sku`).
 *
 * - The contract decides how deep to look: the walk goes into an object or array only where a
 *   contracted path goes on (`billing` when `billing.address.city` is contracted). An object
 *   contracted as a whole (`billing: {type: object}`, nothing listed under it) is opaque, so a
 *   contract that lists top-level fields only behaves exactly as before nested tracking existed.
 * - `added`: a field seen directly under the record or under a path the contract goes into,
 *   that neither is contracted nor leads to a contracted path. Its own children are not listed.
 * - `removed` (only after a whole pass that read records): a contracted path never seen, unless
 *   a contracted ancestor is removed too (it says it), or it lies under an array that never had
 *   an element (an empty array carries no fields).
 * - Bounds: paths at most {@link MAX_DEPTH} segments deep, array elements looked at per array
 *   {@link MAX_ELEMENTS}, distinct added paths tracked per pass {@link MAX_TRACKED_PATHS}, names
 *   reported per list {@link MAX_REPORTED}; `truncated: true` when any list is incomplete.
 */
import type { SchemaChanges } from '../api/index.ts';
import { isObject, type JSONObject } from './json.ts';
import { ancestors, childPath, ELEMENTS, pathDepth } from './paths.ts';
import type { RecordSchema } from './schema.ts';

/** Deepest path tracked, in segments: `a.b.c.d`. */
export const MAX_DEPTH = 4;
/** Elements of one array looked at, so one huge array cannot make a record slow. */
export const MAX_ELEMENTS = 64;
/** Distinct added paths tracked per pass, so a source with unbounded keys cannot exhaust memory. */
export const MAX_TRACKED_PATHS = 200;
/** Names reported per list (the result and status allow 32). */
export const MAX_REPORTED = 32;
/** Longest name reported. */
const MAX_NAME = 256;

/** Schema drift of one run against `schema.properties`. */
export class SchemaDrift {
  /** Contracted paths within {@link MAX_DEPTH}: the ones that can be seen, hence removed. */
  readonly #contracted: readonly string[];
  /** Contracted paths and their ancestors: seeing them is no change. */
  readonly #known = new Set<string>();
  /** Paths the walk goes into: the record (`''`) and every ancestor of a contracted path. */
  readonly #opened = new Set<string>(['']);
  readonly #seen = new Set<string>();
  readonly #added = new Set<string>();
  #truncated = false;
  #records = 0;

  /** Compares against `schema.properties`; without properties there is no contract to drift from. */
  constructor(schema: RecordSchema | undefined) {
    const contracted = Object.keys(schema?.properties ?? {});
    for (const path of contracted) {
      this.#known.add(path);
      for (const up of ancestors(path)) {
        this.#known.add(up);
        this.#opened.add(up);
      }
    }
    this.#contracted = contracted.filter((path) => pathDepth(path) <= MAX_DEPTH);
  }

  /** Notes the fields of one live record. */
  observe(record: JSONObject): void {
    this.#records++;
    this.#walk(record, '', 1);
  }

  /** Notes the children of `value`, found at `path`, whose children are `depth` segments deep. */
  #walk(value: unknown, path: string, depth: number): void {
    if (Array.isArray(value)) {
      const elements = `${path}${ELEMENTS}`;
      if (value.length === 0 || !this.#opened.has(elements)) return;
      this.#note(elements);
      for (const element of value.slice(0, MAX_ELEMENTS)) this.#walk(element, elements, depth);
      return;
    }
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue;
      const childAt = childPath(path, key);
      this.#note(childAt);
      if (depth < MAX_DEPTH && this.#opened.has(childAt)) this.#walk(child, childAt, depth + 1);
    }
  }

  #note(path: string): void {
    if (this.#known.has(path)) this.#seen.add(path);
    else if (this.#added.size < MAX_TRACKED_PATHS) this.#added.add(path);
    else if (!this.#added.has(path)) this.#truncated = true;
  }

  /**
   * Paths added and, when `complete` (a whole pass was read), removed; sorted, at most
   * {@link MAX_REPORTED} each, `truncated` when some were left out. Undefined when there is no
   * contract, no record was read, or nothing changed.
   */
  report(complete: boolean): SchemaChanges | undefined {
    if (this.#known.size === 0 || this.#records === 0) return undefined;
    const added = [...this.#added].map((path) => path.slice(0, MAX_NAME)).sort();
    const removed = complete ? this.#removed().sort() : [];
    if (added.length === 0 && removed.length === 0) return undefined;
    const truncated =
      this.#truncated || added.length > MAX_REPORTED || removed.length > MAX_REPORTED;
    return {
      ...(added.length > 0 ? { added: added.slice(0, MAX_REPORTED) } : {}),
      ...(removed.length > 0 ? { removed: removed.slice(0, MAX_REPORTED) } : {}),
      ...(truncated ? { truncated: true } : {}),
    };
  }

  #removed(): string[] {
    const unseen = new Set(this.#contracted.filter((path) => !this.#seen.has(path)));
    return [...unseen].filter((path) =>
      ancestors(path).every(
        (up) => !unseen.has(up) && (!up.endsWith(ELEMENTS) || this.#seen.has(up)),
      ),
    );
  }
}
