import type { KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import { Informer } from '../../../../operator/controller/machinery/informer.ts';
import {
  decideRecovery,
  watchTimeoutSeconds,
} from '../../../../operator/controller/machinery/recovery.ts';
import { ControllerMetrics } from '../../../../operator/controller/machinery/metrics.ts';
import {
  applyWatchEvent,
  IndexedStore,
  replaceAll,
} from '../../../../operator/controller/machinery/store.ts';
import {
  type ListPage,
  type ListParams,
  type ListWatchTransport,
  namespacedPath,
  type WatchEvent,
  type WatchParams,
} from '../../../../operator/controller/machinery/transport.ts';
import { captureLogger } from './support.ts';

type Obj = KubernetesObject & { data?: string };

function obj(name: string, rv: string, labels: Record<string, string> = {}, namespace = 'ns'): Obj {
  return { metadata: { name, namespace, resourceVersion: rv, labels } };
}

describe('store', () => {
  it('applyWatchEvent turns ADDED/MODIFIED/DELETED into add/update/delete', () => {
    const store = new IndexedStore<Obj>();
    expect(applyWatchEvent(store, 'ADDED', obj('a', '1'))).toEqual({
      type: 'add',
      object: obj('a', '1'),
    });
    expect(applyWatchEvent(store, 'MODIFIED', obj('a', '2'))).toEqual({
      type: 'update',
      old: obj('a', '1'),
      object: obj('a', '2'),
    });
    expect(applyWatchEvent(store, 'DELETED', obj('a', '3'))).toEqual({
      type: 'delete',
      object: obj('a', '3'),
    });
    expect(store.keys()).toEqual([]);
  });

  it('replaceAll synthesizes adds, updates for changed resourceVersions, and deletes', () => {
    const store = new IndexedStore<Obj>();
    for (const o of [obj('same', '1'), obj('changed', '1'), obj('gone', '1')]) store.upsert(o);
    const events = replaceAll(store, [obj('same', '1'), obj('changed', '2'), obj('new', '1')]);
    expect(events).toEqual([
      { type: 'update', old: obj('changed', '1'), object: obj('changed', '2') },
      { type: 'add', object: obj('new', '1') },
      { type: 'delete', object: obj('gone', '1') },
    ]);
    expect(store.keys().sort()).toEqual(['ns/changed', 'ns/new', 'ns/same']);
  });

  it('keeps named indexes in step with upserts and removals', () => {
    const store = new IndexedStore<Obj>();
    store.upsert(obj('a', '1', { secret: 's1' }));
    store.addIndex('secret', (o) => [o.metadata?.labels?.secret ?? '']);
    store.upsert(obj('b', '1', { secret: 's1' }));
    expect(
      store
        .byIndex('secret', 's1')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['a', 'b']);
    store.upsert(obj('a', '2', { secret: 's2' }));
    expect(store.byIndex('secret', 's1').map((o) => o.metadata?.name)).toEqual(['b']);
    expect(store.byIndex('secret', 's2').map((o) => o.metadata?.name)).toEqual(['a']);
    store.remove('ns/b');
    expect(store.byIndex('secret', 's1')).toEqual([]);
    expect(() => store.byIndex('nope', 'x')).toThrow();
  });
});

describe('decideRecovery', () => {
  const random = () => 0.5;
  it.each([
    {
      name: 'clean server close → re-watch at once, reset',
      state: 3,
      ending: { phase: 'watch', durationMs: 300_000 },
      expected: { relist: false, delayMs: 0, failed: false, failures: 0 },
    },
    {
      name: 'clean close within 1 s → backoff (no hot loop)',
      state: 0,
      ending: { phase: 'watch', durationMs: 10 },
      expected: { relist: false, delayMs: 1_200, failed: true, failures: 1 },
    },
    {
      name: 'watch 410 → relist at once, not an error',
      state: 2,
      ending: { phase: 'watch', durationMs: 5, error: new ApiError(410, 'too old') },
      expected: { relist: true, delayMs: 0, failed: false, failures: 2 },
    },
    {
      name: 'ERROR event reason Expired → relist',
      state: 0,
      ending: { phase: 'watch', durationMs: 5, error: new ApiError(500, 'x', 'Expired') },
      expected: { relist: true, delayMs: 0, failed: false, failures: 0 },
    },
    {
      name: 'watch 500 → re-watch after backoff',
      state: 0,
      ending: { phase: 'watch', durationMs: 5, error: new ApiError(500, 'x') },
      expected: { relist: false, delayMs: 1_200, failed: true, failures: 1 },
    },
    {
      name: 'watch 429 (storage reinitializing) → retry after the first step; backoff kept',
      state: 5,
      ending: {
        phase: 'watch',
        durationMs: 5,
        error: new ApiError(429, 'storage is (re)initializing'),
      },
      expected: { relist: false, delayMs: 1_200, failed: true, failures: 5 },
    },
    {
      name: 'list 429 → relist after the first step',
      state: 2,
      ending: { phase: 'list', durationMs: 5, error: new ApiError(429, 'too many requests') },
      expected: { relist: true, delayMs: 1_200, failed: true, failures: 2 },
    },
    {
      name: 'repeated failures grow the backoff',
      state: 3,
      ending: { phase: 'watch', durationMs: 5, error: new Error('reset') },
      expected: { relist: false, delayMs: 9_600, failed: true, failures: 4 },
    },
    {
      name: 'backoff is capped',
      state: 20,
      ending: { phase: 'watch', durationMs: 5, error: new Error('reset') },
      expected: { relist: false, delayMs: 30_000, failed: true, failures: 21 },
    },
    {
      name: 'failure after a long healthy watch resets backoff',
      state: 6,
      ending: { phase: 'watch', durationMs: 61_000, error: new Error('reset') },
      expected: { relist: false, delayMs: 1_200, failed: true, failures: 1 },
    },
    {
      name: 'list failure → relist after backoff',
      state: 1,
      ending: { phase: 'list', durationMs: 5, error: new ApiError(403, 'forbidden') },
      expected: { relist: true, delayMs: 2_400, failed: true, failures: 2 },
    },
  ] as const)('$name', ({ state, ending, expected }) => {
    const r = decideRecovery({ failures: state }, ending, {}, random);
    expect({
      relist: r.relist,
      delayMs: r.delayMs,
      failed: r.failed,
      failures: r.state.failures,
    }).toEqual(expected);
  });

  it('watchTimeoutSeconds is within [min, 2·min)', () => {
    expect(watchTimeoutSeconds(300_000, () => 0)).toBe(300);
    expect(watchTimeoutSeconds(300_000, () => 0.999)).toBe(599);
  });

  it.each([
    [
      '/apis/tributary.dev/v1alpha1/integrations',
      'x',
      '/apis/tributary.dev/v1alpha1/namespaces/x/integrations',
    ],
    ['/api/v1/secrets', 'x', '/api/v1/namespaces/x/secrets'],
    ['/api/v1/namespaces/y/secrets', 'x', '/api/v1/namespaces/y/secrets'],
    ['/api/v1/secrets', undefined, '/api/v1/secrets'],
  ])('namespacedPath(%s, %s) = %s', (path, namespace, expected) => {
    expect(namespacedPath(path, namespace)).toBe(expected);
  });
});

/** A watch stream the test feeds and ends. */
class FakeWatch {
  readonly params: WatchParams;
  #items: (WatchEvent<Obj> | { end: true } | { fail: unknown })[] = [];
  #wake: (() => void) | undefined;
  constructor(params: WatchParams) {
    this.params = params;
  }
  push(item: WatchEvent<Obj> | { end: true } | { fail: unknown }): void {
    this.#items.push(item);
    this.#wake?.();
  }
  async *stream(signal: AbortSignal): AsyncGenerator<WatchEvent<Obj>> {
    signal.addEventListener('abort', () => this.#wake?.());
    for (;;) {
      const item = this.#items.shift();
      if (item === undefined) {
        if (signal.aborted) throw new Error('aborted');
        await new Promise<void>((r) => (this.#wake = r));
        continue;
      }
      if ('end' in item) return;
      if ('fail' in item) throw item.fail;
      yield item;
    }
  }
}

class FakeTransport implements ListWatchTransport<Obj> {
  lists: ListParams[] = [];
  watches: FakeWatch[] = [];
  /** Each relist serves the next entry: pages or an error. */
  listResults: (ListPage<Obj>[] | Error)[] = [];
  watchErrors: Error[] = [];
  #page = 0;
  list(params: ListParams): Promise<ListPage<Obj>> {
    this.lists.push(params);
    const current = this.listResults[0];
    if (current === undefined) return Promise.reject(new Error('no list scripted'));
    if (current instanceof Error) {
      this.listResults.shift();
      return Promise.reject(current);
    }
    const page = current[this.#page++];
    if (page?.continueToken === undefined) {
      this.listResults.shift();
      this.#page = 0;
    }
    return page === undefined ? Promise.reject(new Error('bad script')) : Promise.resolve(page);
  }
  watch(params: WatchParams, signal: AbortSignal): AsyncIterable<WatchEvent<Obj>> {
    const error = this.watchErrors.shift();
    if (error !== undefined) {
      this.watches.push(new FakeWatch(params));
      // eslint-disable-next-line require-yield -- a watch that fails before its first event
      return (async function* () {
        await Promise.resolve();
        throw error;
      })();
    }
    const watch = new FakeWatch(params);
    this.watches.push(watch);
    return watch.stream(signal);
  }
  lastWatch(): FakeWatch {
    const watch = this.watches.at(-1);
    if (watch === undefined) throw new Error('no watch');
    return watch;
  }
}

function newInformer(transport: FakeTransport) {
  const clock = new FakeClock(0);
  const registry = new Registry();
  const events: string[] = [];
  const { log, lines } = captureLogger();
  /** The errors of the failed attempts logged so far. */
  const failures = () =>
    lines()
      .filter((line) => line.msg === 'list-watch failed; retrying')
      .map((line) => line.err as { message: string });
  const informer = new Informer<Obj>({
    path: '/apis/tributary.dev/v1alpha1/integrations',
    transport,
    clock,
    log,
    metrics: new ControllerMetrics({ registry }),
    random: () => 0,
    pageSize: 2,
  });
  informer.addHandlers({
    onAdd: (o) => events.push(`add ${o.metadata?.name}`),
    onUpdate: (_old, o) => events.push(`update ${o.metadata?.name}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  const counter = async (name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
  return { clock, informer, events, counter, failures };
}

describe('Informer list-watch loop', () => {
  it('lists page by page, then watches from the list resourceVersion with a server-side timeout', async () => {
    const transport = new FakeTransport();
    transport.listResults = [
      [
        { items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10', continueToken: 'next' },
        { items: [obj('c', '3')], resourceVersion: '10' },
      ],
    ];
    const { clock, informer, events } = newInformer(transport);
    expect(informer.hasSynced()).toBe(false);
    void informer.start();
    await clock.advance(0);
    expect(transport.lists).toEqual([{ limit: 2 }, { limit: 2, continueToken: 'next' }]);
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(['add a', 'add b', 'add c']);
    expect(transport.lastWatch().params).toEqual({ resourceVersion: '10', timeoutSeconds: 300 });
    expect(informer.get('ns', 'b')?.metadata?.resourceVersion).toBe('2');
    await informer.stop();
  });

  it('applies events, tracks resourceVersion through bookmarks, and resumes from it after a clean close', async () => {
    const transport = new FakeTransport();
    transport.listResults = [[{ items: [obj('a', '1')], resourceVersion: '10' }]];
    const { clock, informer, events, counter } = newInformer(transport);
    void informer.start();
    await clock.advance(0);
    const watch = transport.lastWatch();
    watch.push({ type: 'ADDED', object: obj('b', '11') });
    watch.push({ type: 'MODIFIED', object: obj('a', '12') });
    watch.push({ type: 'DELETED', object: obj('b', '13') });
    watch.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } });
    await clock.advance(300_000);
    expect(events).toEqual(['add a', 'add b', 'update a', 'delete b']);
    watch.push({ end: true });
    await clock.advance(0);
    expect(transport.watches).toHaveLength(2);
    expect(transport.lastWatch().params.resourceVersion).toBe('20');
    expect(transport.lists).toHaveLength(1);
    expect(await counter('tributary_watch_resumes_total')).toBe(1);
    expect(await counter('tributary_watch_relists_total')).toBe(1);
    await informer.stop();
  });

  it.each([
    {
      name: 'an ERROR event with code 410',
      fail: (w: FakeWatch) => {
        w.push({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old' } });
      },
      http: undefined,
    },
    { name: 'an HTTP 410 response', fail: undefined, http: new ApiError(410, 'Gone') },
  ])('relists on $name and diffs the relist into synthetic events', async ({ fail, http }) => {
    const transport = new FakeTransport();
    transport.listResults = [
      [{ items: [obj('a', '1'), obj('b', '1')], resourceVersion: '10' }],
      [{ items: [obj('a', '1'), obj('b', '5'), obj('c', '6')], resourceVersion: '30' }],
    ];
    const { clock, informer, events, counter, failures } = newInformer(transport);
    if (http !== undefined) transport.watchErrors = [http];
    void informer.start();
    await clock.advance(0);
    if (fail !== undefined) fail(transport.lastWatch());
    await clock.advance(0);
    expect(transport.lists).toHaveLength(2);
    expect(events).toEqual(['add a', 'add b', 'update b', 'add c']);
    expect(transport.lastWatch().params.resourceVersion).toBe('30');
    expect(await counter('tributary_watch_relists_total')).toBe(2);
    expect(await counter('tributary_watch_errors_total')).toBe(0);
    expect(failures()).toEqual([]);
    await informer.stop();
  });

  it('synthesizes deletes for objects that vanished while disconnected', async () => {
    const transport = new FakeTransport();
    transport.listResults = [
      [{ items: [obj('a', '1'), obj('b', '1')], resourceVersion: '10' }],
      [{ items: [obj('a', '1')], resourceVersion: '30' }],
    ];
    transport.watchErrors = [new ApiError(410, 'Gone')];
    const { clock, informer, events } = newInformer(transport);
    void informer.start();
    await clock.advance(0);
    expect(events).toEqual(['add a', 'add b', 'delete b']);
    expect(informer.list('ns').map((o) => o.metadata?.name)).toEqual(['a']);
    await informer.stop();
  });

  it('retries other errors with backoff from the same resourceVersion, counts them, and reports health', async () => {
    const transport = new FakeTransport();
    transport.listResults = [[{ items: [obj('a', '1')], resourceVersion: '10' }]];
    const failure = new ApiError(500, 'etcd unavailable');
    transport.watchErrors = [failure, failure, failure, failure, failure, failure, failure];
    const { clock, informer, counter, failures } = newInformer(transport);
    void informer.start();
    await clock.advance(0);
    expect(transport.watches).toHaveLength(1);
    expect(failures().map((err) => err.message)).toEqual(['etcd unavailable']);
    // random() = 0: delays 800, 1600, 3200, 6400, 12800, 25600 ms.
    await clock.advance(799);
    expect(transport.watches).toHaveLength(1);
    await clock.advance(1);
    expect(transport.watches).toHaveLength(2);
    await clock.advance(1_600);
    expect(transport.watches).toHaveLength(3);
    expect(transport.watches.map((w) => w.params.resourceVersion)).toEqual(['10', '10', '10']);
    expect(await counter('tributary_watch_errors_total')).toBe(3);
    expect(informer.isHealthy()).toBe(true);
    await clock.advance(3_200 + 6_400 + 12_800 + 25_600);
    expect(transport.watches).toHaveLength(7);
    expect(informer.isHealthy()).toBe(true);
    await clock.advance(60_000 - 50_400);
    expect(informer.isHealthy()).toBe(false);
    await clock.advance(51_200 - 9_600);
    expect(transport.watches).toHaveLength(8);
    transport.lastWatch().push({ type: 'ADDED', object: obj('b', '11') });
    await clock.advance(0);
    expect(informer.isHealthy()).toBe(true);
    expect(transport.lists).toHaveLength(1);
    await informer.stop();
  });

  it('wake() ends a backoff wait at once: the API server answers again', async () => {
    const transport = new FakeTransport();
    transport.listResults = [[{ items: [], resourceVersion: '10' }]];
    const down = new ApiError(0, 'connect ECONNREFUSED');
    const forbidden = new ApiError(403, 'forbidden');
    transport.watchErrors = [down, down, down, down, down, forbidden];
    const { clock, informer } = newInformer(transport);
    void informer.start();
    await clock.advance(800 + 1_600 + 3_200 + 6_400);
    expect(transport.watches).toHaveLength(5);
    await clock.advance(12_799); // the fifth backoff is 12.8 s
    expect(transport.watches).toHaveLength(5);
    informer.wake();
    await clock.advance(0);
    expect(transport.watches).toHaveLength(6);
    // The server refuses at first (403: its authorizer not synced yet): the backoff starts over.
    await clock.advance(799);
    expect(transport.watches).toHaveLength(6);
    await clock.advance(1);
    expect(transport.watches).toHaveLength(7);
    await informer.stop();
  });

  it('resets the backoff after a successful watch period', async () => {
    const transport = new FakeTransport();
    transport.listResults = [[{ items: [], resourceVersion: '10' }]];
    transport.watchErrors = [new Error('reset'), new Error('reset'), new Error('reset')];
    const { clock, informer } = newInformer(transport);
    void informer.start();
    await clock.advance(800 + 1_600 + 3_200);
    expect(transport.watches).toHaveLength(4);
    await clock.advance(61_000);
    transport.lastWatch().push({ fail: new Error('connection reset') });
    await clock.advance(799);
    expect(transport.watches).toHaveLength(4);
    await clock.advance(1);
    expect(transport.watches).toHaveLength(5);
    await informer.stop();
  });

  it('aborts a watch that stays silent past the idle timeout and reconnects', async () => {
    const transport = new FakeTransport();
    transport.listResults = [[{ items: [], resourceVersion: '10' }]];
    const { clock, informer, failures } = newInformer(transport);
    void informer.start();
    await clock.advance(0);
    await clock.advance(360_000 - 1);
    expect(transport.watches).toHaveLength(1);
    await clock.advance(1 + 800);
    expect(transport.watches).toHaveLength(2);
    expect(failures().map((err) => err.message)).toEqual(['watch idle for 360000 ms']);
    await informer.stop();
  });

  it('retries a failed initial list and is not synced meanwhile', async () => {
    const transport = new FakeTransport();
    transport.listResults = [
      new ApiError(403, 'forbidden'),
      [{ items: [obj('a', '1')], resourceVersion: '10' }],
    ];
    const { clock, informer } = newInformer(transport);
    void informer.start();
    await clock.advance(0);
    expect(informer.hasSynced()).toBe(false);
    expect(informer.isHealthy()).toBe(false);
    await clock.advance(800);
    expect(informer.hasSynced()).toBe(true);
    expect(informer.isHealthy()).toBe(true);
    await informer.stop();
  });
});
