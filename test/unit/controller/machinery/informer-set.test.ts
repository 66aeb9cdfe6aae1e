import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { InformerHandlers } from '../../../../operator/controller/machinery/informer.ts';
import { InformerSet, type Cache } from '../../../../operator/controller/machinery/informer-set.ts';
import type { IndexFunc } from '../../../../operator/controller/machinery/store.ts';
import { namespaceList } from '../../../../operator/lib/namespaces.ts';

/** A cache of one namespace holding fixed objects (InformerSet only delegates). */
class FixedCache implements Cache<KubernetesObject> {
  readonly handlers: InformerHandlers<KubernetesObject>[] = [];
  readonly indexes = new Map<string, IndexFunc<KubernetesObject>>();
  synced = true;
  healthy = true;
  started = 0;
  stopped = 0;
  readonly objects: KubernetesObject[];
  constructor(objects: KubernetesObject[]) {
    this.objects = objects;
  }
  get(namespace: string, name: string) {
    return this.objects.find(
      (o) => o.metadata?.namespace === namespace && o.metadata.name === name,
    );
  }
  list(namespace?: string) {
    return this.objects.filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    );
  }
  hasSynced() {
    return this.synced;
  }
  isHealthy() {
    return this.healthy;
  }
  addIndex(name: string, fn: IndexFunc<KubernetesObject>) {
    this.indexes.set(name, fn);
  }
  byIndex(name: string, value: string) {
    const fn = this.indexes.get(name);
    return fn ? this.objects.filter((o) => fn(o).includes(value)) : [];
  }
  addHandlers(handlers: InformerHandlers<KubernetesObject>) {
    this.handlers.push(handlers);
  }
  start() {
    this.started++;
    return Promise.resolve();
  }
  wake() {
    // nothing waits
  }

  stop() {
    this.stopped++;
    return Promise.resolve();
  }
  waitForSync() {
    return Promise.resolve(this.synced);
  }
}

const object = (namespace: string, name: string, team: string): KubernetesObject => ({
  metadata: { namespace, name, labels: { team } },
});

function set() {
  const a = new FixedCache([object('a', 'x', 'red'), object('a', 'y', 'blue')]);
  const b = new FixedCache([object('b', 'x', 'red')]);
  return {
    a,
    b,
    caches: new InformerSet(
      new Map([
        ['a', a],
        ['b', b],
      ]),
    ),
  };
}

describe('InformerSet', () => {
  it('routes reads to the namespace of the object and merges lists', () => {
    const { caches } = set();
    expect(caches.get('b', 'x')?.metadata?.namespace).toBe('b');
    expect(caches.get('c', 'x')).toBeUndefined();
    expect(caches.list().map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)).toEqual([
      'a/x',
      'a/y',
      'b/x',
    ]);
    expect(caches.list('a')).toHaveLength(2);
    expect(caches.list('c')).toEqual([]);
  });

  it('indexes every member and merges index lookups', () => {
    const { caches } = set();
    caches.addIndex('team', (o) => [o.metadata?.labels?.team ?? '']);
    expect(caches.byIndex('team', 'red').map((o) => o.metadata?.namespace)).toEqual(['a', 'b']);
  });

  it('is synced and healthy only when every member is', async () => {
    const { a, b, caches } = set();
    expect(caches.hasSynced() && caches.isHealthy()).toBe(true);
    b.synced = false;
    expect(caches.hasSynced()).toBe(false);
    expect(await caches.waitForSync()).toBe(false);
    b.synced = true;
    a.healthy = false;
    expect(caches.isHealthy()).toBe(false);
  });

  it('registers handlers on, starts and stops every member', async () => {
    const { a, b, caches } = set();
    caches.addHandlers({});
    await caches.start();
    await caches.stop();
    for (const member of [a, b]) {
      expect(member.handlers).toHaveLength(1);
      expect([member.started, member.stopped]).toEqual([1, 1]);
    }
  });

  it('refuses an empty set', () => {
    expect(() => new InformerSet(new Map())).toThrow(/at least one namespace/);
  });
});

describe('namespaceList (WATCH_NAMESPACE)', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['team-a', ['team-a']],
    [' team-a, team-b,,team-a ', ['team-a', 'team-b']],
  ])('%j → %j', (value, expected) => {
    expect(namespaceList(value)).toEqual(expected);
  });

  it('names a value that is not a namespace', () => {
    expect(() => namespaceList('team-a,Team_B')).toThrow(
      'WATCH_NAMESPACE (--namespace): "Team_B" is not a namespace name',
    );
  });
});
