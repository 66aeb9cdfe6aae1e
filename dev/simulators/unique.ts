/**
 * The destination simulator's unique-constraint mode: a unique index on one top-level field, as a
 * database's UNIQUE constraint on a column other than the primary key. A write whose record
 * would share a (non-null) value of that field with a stored record of another id is refused
 * with a 409 that is no replay, so a connector can tell a conflict from an applied key.
 */
import { z } from 'zod';

/** Which field must be unique, and where. */
export interface UniqueConstraint {
  /** Top-level field whose non-null values must be unique, e.g. `email`. */
  field: string;
  /** Only in this collection; default every collection (each one separately). */
  collection?: string | undefined;
}

/** `POST /__control/unique` body. */
export const uniqueConstraintSchema = z.strictObject({
  field: z.string().min(1),
  collection: z.string().min(1).optional(),
});

type Stored = Record<string, unknown>;

/** The value of `field` as an index key; undefined for absent or null (never unique, as in SQL). */
function indexKey(record: Stored | undefined, field: string): string | undefined {
  const value = record?.[field];
  return value === undefined || value === null ? undefined : JSON.stringify(value);
}

/** A unique index over the stored records of one field, kept in step with every store. */
export class UniqueIndex {
  readonly constraint: UniqueConstraint;
  /** collection → value key → ids holding it (more than one only through direct manipulation). */
  readonly #index = new Map<string, Map<string, Set<string>>>();

  /** Indexes the records stored now. */
  constructor(
    constraint: UniqueConstraint,
    stored: Iterable<[string, Iterable<[string, Stored]>]>,
  ) {
    this.constraint = constraint;
    for (const [collection, records] of stored) {
      for (const [id, record] of records) this.stored(collection, id, undefined, record);
    }
  }

  /** The id of another record in `collection` that already holds `record`'s value, if any. */
  conflict(collection: string, id: string, record: Stored | undefined): string | undefined {
    if (!this.#applies(collection)) return undefined;
    const key = indexKey(record, this.constraint.field);
    if (key === undefined) return undefined;
    for (const holder of this.#index.get(collection)?.get(key) ?? []) {
      if (holder !== id) return holder;
    }
    return undefined;
  }

  /** Follows a store of `id` in `collection` from `before` (absent: undefined) to `after`. */
  stored(collection: string, id: string, before: Stored | undefined, after: Stored): void {
    this.removed(collection, id, before);
    if (!this.#applies(collection)) return;
    const key = indexKey(after, this.constraint.field);
    if (key === undefined) return;
    let values = this.#index.get(collection);
    if (values === undefined) {
      values = new Map();
      this.#index.set(collection, values);
    }
    const ids = values.get(key) ?? new Set<string>();
    ids.add(id);
    values.set(key, ids);
  }

  /** Follows the removal of `id`, which held `before`. */
  removed(collection: string, id: string, before: Stored | undefined): void {
    const key = indexKey(before, this.constraint.field);
    if (key === undefined) return;
    const ids = this.#index.get(collection)?.get(key);
    ids?.delete(id);
    if (ids?.size === 0) this.#index.get(collection)?.delete(key);
  }

  #applies(collection: string): boolean {
    return this.constraint.collection === undefined || this.constraint.collection === collection;
  }
}
