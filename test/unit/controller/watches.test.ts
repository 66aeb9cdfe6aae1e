import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../operator/lib/clock.ts';
import type { ApiRequest, ApiTransport } from '../../../operator/lib/kube/api.ts';
import type { WorkQueue } from '../../../operator/controller/machinery/queue.ts';
import { JobLabel } from '../../../operator/controller/plan/job.ts';
import {
  BY_INTEGRATION_UID,
  BY_JOB,
  type Caches,
  enqueueOnChange,
  integrationsUsing,
  watchCaches,
} from '../../../operator/controller/watches.ts';
import { silentLogger } from './machinery/support.ts';

const INTEGRATIONS = '/apis/tributary.dev/v1alpha1';

/** An API server of fixed lists whose watches stay open and deliver what the test sends. */
class FakeApi implements ApiTransport {
  readonly lists: ApiRequest[] = [];
  readonly #objects: Record<string, KubernetesObject[]>;
  readonly #watchers = new Map<string, (line: string) => void>();

  constructor(objects: Record<string, KubernetesObject[]>) {
    this.#objects = objects;
  }

  request<T>(request: ApiRequest): Promise<T> {
    this.lists.push(request);
    const items = this.#objects[request.path] ?? [];
    return Promise.resolve({ metadata: { resourceVersion: '1' }, items } as T);
  }

  stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    const lines: string[] = [];
    let wake: (() => void) | undefined;
    this.#watchers.set(request.path, (line) => {
      lines.push(line);
      wake?.();
    });
    const signal = request.signal;
    signal?.addEventListener('abort', () => wake?.());
    return Promise.resolve(
      (async function* () {
        for (;;) {
          const line = lines.shift();
          if (line !== undefined) {
            yield new TextEncoder().encode(`${line}\n`);
            continue;
          }
          if (signal?.aborted === true) throw new Error('aborted');
          await new Promise<void>((resolve) => (wake = resolve));
        }
      })(),
    );
  }

  /** Sends a watch event on the collection at `path`. */
  send(path: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubernetesObject): void {
    this.#watchers.get(path)?.(JSON.stringify({ type, object }));
  }
}

function integration(name: string, policy?: string, uid = `uid-${name}`): KubernetesObject {
  return {
    metadata: { name, namespace: 'a', uid, resourceVersion: '1' },
    ...(policy !== undefined ? { spec: { policyRef: { name: policy } } } : {}),
  };
}

function run(name: string, labels: Record<string, string>): KubernetesObject {
  return { metadata: { name, namespace: 'a', resourceVersion: '1', labels } };
}

const running: Caches[] = [];
afterEach(async () => {
  for (const caches of running.splice(0))
    await Promise.all(Object.values(caches).map((cache) => cache.stop()));
});

/** Starts the caches on `api`, wired to queues that record keys; resolves once synced. */
async function watching(api: FakeApi, namespaces: string[] = ['a']) {
  const caches = watchCaches({ api, log: silentLogger(), clock: systemClock(), namespaces });
  running.push(caches);
  const keys = { integrations: [] as string[], policies: [] as string[] };
  const recorder = (into: string[]) =>
    ({
      add: (key: string) => {
        into.push(key);
      },
    }) as unknown as WorkQueue;
  enqueueOnChange(caches, {
    integrations: recorder(keys.integrations),
    policies: recorder(keys.policies),
  });
  for (const cache of Object.values(caches)) void cache.start();
  await Promise.all(Object.values(caches).map((cache) => cache.waitForSync()));
  return { caches, keys };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('watchCaches', () => {
  it('lists each collection in each watched namespace, runs only those the operator made', async () => {
    const api = new FakeApi({});
    await watching(api, ['a', 'b']);
    const listed = api.lists.map((r) => `${r.path} ${r.query?.labelSelector ?? ''}`.trim());
    expect(listed.sort()).toEqual([
      '/api/v1/namespaces/a/pods app.kubernetes.io/managed-by=tributary',
      '/api/v1/namespaces/b/pods app.kubernetes.io/managed-by=tributary',
      '/apis/batch/v1/namespaces/a/jobs app.kubernetes.io/managed-by=tributary',
      '/apis/batch/v1/namespaces/b/jobs app.kubernetes.io/managed-by=tributary',
      `${INTEGRATIONS}/namespaces/a/integrations`,
      `${INTEGRATIONS}/namespaces/a/reconcilepolicies`,
      `${INTEGRATIONS}/namespaces/b/integrations`,
      `${INTEGRATIONS}/namespaces/b/reconcilepolicies`,
    ]);
  });

  it('indexes run Jobs by Integration uid, pods by Job, and counts the users of a policy', async () => {
    const api = new FakeApi({
      [`${INTEGRATIONS}/namespaces/a/integrations`]: [
        integration('i1', 'p'),
        integration('i2', 'p'),
      ],
      '/apis/batch/v1/namespaces/a/jobs': [run('j1', { [JobLabel.IntegrationUID]: 'uid-i1' })],
      '/api/v1/namespaces/a/pods': [run('pod1', { 'job-name': 'j1' })],
    });
    const { caches } = await watching(api);
    expect(caches.jobs.byIndex(BY_INTEGRATION_UID, 'uid-i1').map((j) => j.metadata?.name)).toEqual([
      'j1',
    ]);
    expect(caches.pods.byIndex(BY_JOB, 'a/j1').map((p) => p.metadata?.name)).toEqual(['pod1']);
    expect(integrationsUsing(caches, 'a', 'p')).toBe(2);
    expect(integrationsUsing(caches, 'a', 'other')).toBe(0);
  });
});

describe('enqueueOnChange', () => {
  it('enqueues an Integration and its policy, and an Integration for its runs', async () => {
    const api = new FakeApi({
      [`${INTEGRATIONS}/namespaces/a/integrations`]: [integration('i1', 'p')],
      '/apis/batch/v1/namespaces/a/jobs': [
        run('j1', { [JobLabel.IntegrationUID]: 'uid-i1' }),
        run('stray', {}),
      ],
    });
    const { keys } = await watching(api);
    expect(keys.integrations).toEqual(['a/i1', 'a/i1']);
    expect(keys.policies).toEqual(['a/p']);
  });

  it('enqueues the old and the new policy when an Integration changes its policyRef', async () => {
    const path = `${INTEGRATIONS}/namespaces/a/integrations`;
    const api = new FakeApi({ [path]: [integration('i1', 'old')] });
    const { keys } = await watching(api);
    const changed = integration('i1', 'new');
    if (changed.metadata) changed.metadata.resourceVersion = '2';
    api.send(path, 'MODIFIED', changed);
    await until(() => keys.policies.length === 3);
    expect(keys.policies).toEqual(['a/old', 'a/old', 'a/new']);
  });

  it('enqueues a policy and every Integration that references it when the policy changes', async () => {
    const policies = `${INTEGRATIONS}/namespaces/a/reconcilepolicies`;
    const api = new FakeApi({
      [`${INTEGRATIONS}/namespaces/a/integrations`]: [
        integration('i1', 'p'),
        integration('i2', 'p'),
        integration('i3', 'q'),
      ],
    });
    const { keys } = await watching(api);
    keys.integrations.length = 0;
    keys.policies.length = 0;
    api.send(policies, 'ADDED', { metadata: { name: 'p', namespace: 'a', resourceVersion: '2' } });
    await until(() => keys.policies.length === 1);
    expect(keys.policies).toEqual(['a/p']);
    expect(keys.integrations.sort()).toEqual(['a/i1', 'a/i2']);
  });
});
