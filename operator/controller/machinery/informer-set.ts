/**
 * A cache over several namespaces: one informer per namespace behind the surface of one, so the
 * operator can watch a list of namespaces (WATCH_NAMESPACE=a,b) with list/watch rights scoped to
 * each. Reads route to the informer of the object's namespace; lists and indexes merge.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { IndexFunc } from './store.ts';
import type { InformerHandlers } from './informer.ts';

/** What controllers read from a cache: an {@link Informer} or an {@link InformerSet}. */
export interface Cache<T extends KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
  hasSynced(): boolean;
  isHealthy(): boolean;
  addIndex(name: string, fn: IndexFunc<T>): void;
  byIndex(name: string, value: string): T[];
  addHandlers(handlers: InformerHandlers<T>): void;
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Ends any backoff wait at once (the API server answers again). */
  wake(): void;
  waitForSync(): Promise<boolean>;
}

/** One cache made of one informer per namespace. */
export class InformerSet<T extends KubernetesObject> implements Cache<T> {
  readonly #members: ReadonlyMap<string, Cache<T>>;

  /** `members` maps each namespace to the informer watching it. */
  constructor(members: ReadonlyMap<string, Cache<T>>) {
    if (members.size === 0) throw new Error('an InformerSet needs at least one namespace');
    this.#members = members;
  }

  get(namespace: string, name: string): T | undefined {
    return this.#members.get(namespace)?.get(namespace, name);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.#members.get(namespace)?.list(namespace) ?? [];
    return this.#all().flatMap((member) => member.list());
  }

  hasSynced(): boolean {
    return this.#all().every((member) => member.hasSynced());
  }

  isHealthy(): boolean {
    return this.#all().every((member) => member.isHealthy());
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    for (const member of this.#all()) member.addIndex(name, fn);
  }

  byIndex(name: string, value: string): T[] {
    return this.#all().flatMap((member) => member.byIndex(name, value));
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    for (const member of this.#all()) member.addHandlers(handlers);
  }

  async start(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.#all().map((member) => member.start(signal)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all().map((member) => member.stop()));
  }

  wake(): void {
    for (const member of this.#all()) member.wake();
  }

  async waitForSync(): Promise<boolean> {
    const synced = await Promise.all(this.#all().map((member) => member.waitForSync()));
    return synced.every(Boolean);
  }

  #all(): Cache<T>[] {
    return [...this.#members.values()];
  }
}
