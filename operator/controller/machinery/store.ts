/**
 * The informer's cache as data: an indexed store of objects keyed `namespace/name`, and pure
 * functions that apply one watch event or diff a relist into the events handlers should see.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from '../../lib/key.ts';

/** A change the informer reports to handlers (handlers only enqueue keys: see docs/architecture.md). */
export type StoreEvent<T> =
  | { type: 'add'; object: T }
  | { type: 'update'; old: T; object: T }
  | { type: 'delete'; object: T };

/** Computes the index values of an object (e.g. the Secret names an Integration refers to). */
export type IndexFunc<T> = (object: T) => string[];

/** An in-memory map of objects with named secondary indexes. */
export class IndexedStore<T extends KubernetesObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  /** The object with `key`, if cached. */
  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** All cached objects, or those in `namespace`; unordered. */
  list(namespace?: string): T[] {
    const all = [...this.#items.values()];
    return namespace === undefined
      ? all
      : all.filter((o) => (o.metadata?.namespace ?? '') === namespace);
  }

  /** Every cached key. */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Inserts or replaces `object`; returns the previous version. */
  upsert(object: T): T | undefined {
    const key = objectKey(object);
    const old = this.#items.get(key);
    if (old !== undefined) this.#unindex(key, old);
    this.#items.set(key, object);
    this.#index(key, object);
    return old;
  }

  /** Removes the object with `key`; returns it. */
  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  /** Adds index `name` (replacing one of the same name) and indexes what is cached already. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.#indexers.set(name, fn);
    this.#indexes.set(name, new Map());
    for (const [key, object] of this.#items) this.#indexOne(name, fn, key, object);
  }

  /** Objects whose index `name` yields `value`; throws for an unknown index (a programming error). */
  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (index === undefined) throw new Error(`no index named ${name}`);
    const keys = index.get(value) ?? new Set<string>();
    return [...keys].flatMap((key) => {
      const object = this.#items.get(key);
      return object === undefined ? [] : [object];
    });
  }

  #index(key: string, object: T): void {
    for (const [name, fn] of this.#indexers) this.#indexOne(name, fn, key, object);
  }

  #indexOne(name: string, fn: IndexFunc<T>, key: string, object: T): void {
    const index = this.#indexes.get(name);
    if (index === undefined) return;
    for (const value of new Set(fn(object))) {
      let keys = index.get(value);
      if (keys === undefined) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indexes.get(name);
      for (const value of fn(object)) {
        const keys = index?.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index?.delete(value);
      }
    }
  }
}

/** Applies an ADDED/MODIFIED/DELETED watch event to `store`; returns the event for handlers. */
export function applyWatchEvent<T extends KubernetesObject>(
  store: IndexedStore<T>,
  type: 'ADDED' | 'MODIFIED' | 'DELETED',
  object: T,
): StoreEvent<T> {
  if (type === 'DELETED') {
    // The server's final state is newer than the cached one; report it.
    store.remove(objectKey(object));
    return { type: 'delete', object };
  }
  const old = store.upsert(object);
  return old === undefined ? { type: 'add', object } : { type: 'update', old, object };
}

/**
 * Replaces the store's content with a fresh list and returns the synthetic events: adds for new
 * keys, updates for keys whose resourceVersion changed, deletes for keys that vanished.
 */
export function replaceAll<T extends KubernetesObject>(
  store: IndexedStore<T>,
  items: readonly T[],
): StoreEvent<T>[] {
  const events: StoreEvent<T>[] = [];
  const fresh = new Set<string>();
  for (const object of items) {
    const key = objectKey(object);
    fresh.add(key);
    const old = store.upsert(object);
    if (old === undefined) events.push({ type: 'add', object });
    else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion)
      events.push({ type: 'update', old, object });
  }
  for (const key of store.keys()) {
    if (fresh.has(key)) continue;
    const old = store.remove(key);
    if (old !== undefined) events.push({ type: 'delete', object: old });
  }
  return events;
}
