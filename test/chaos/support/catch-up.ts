/**
 * What a control-plane restart is judged by, besides the ledger: what the replicas' `/readyz`
 * said through it (the outage must show, and clear), and how long until every Integration's
 * status records a sync that finished after the API server was back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { ClusterClient } from '../../../dev/cluster/cluster.ts';
import type { Load } from './load.ts';
import type { Replica } from './replicas.ts';

/** One `/readyz` answer of one replica; status 0 when it did not answer. */
interface ReadyzSample {
  atMs: number;
  identity: string;
  status: number;
  body: string;
}

/** Polls every replica's `/readyz` every `intervalMs` until stopped. */
export class ReadyzWatch {
  readonly samples: ReadyzSample[] = [];
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(replicas: readonly Replica[], intervalMs = 250) {
    this.#done = this.#poll(replicas, intervalMs);
  }

  async #poll(replicas: readonly Replica[], intervalMs: number): Promise<void> {
    while (!this.#stopped) {
      await Promise.all(
        replicas.map(async ({ identity, process }) => {
          const answer = await process.get('/readyz').catch(() => undefined);
          const sample = { atMs: Date.now(), identity, status: answer?.status ?? 0 };
          this.samples.push({ ...sample, body: answer?.body ?? '' });
        }),
      );
      await sleep(intervalMs);
    }
  }

  /** Stops polling; resolves once the last round has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  /** True when some replica answered 503 naming the `apiserver` check between the two times. */
  sawOutage(fromMs: number, toMs: number): boolean {
    return this.samples.some(
      (s) => s.atMs >= fromMs && s.atMs <= toMs && s.status === 503 && s.body.includes('apiserver'),
    );
  }

  /** Waits up to `timeoutMs` for {@link recoveredAfter}; else throws with the last refusal. */
  async waitRecovered(fromMs: number, timeoutMs = 60_000): Promise<number> {
    do {
      const ms = this.recoveredAfter(fromMs);
      if (ms !== undefined) return ms;
      await sleep(250);
    } while (Date.now() - fromMs < timeoutMs);
    const latest = [...new Set(this.samples.map((s) => s.identity))].map((identity) => {
      const last = this.samples.findLast((s) => s.identity === identity);
      return `${identity} at +${(last?.atMs ?? 0) - fromMs} ms: ${last?.status} ${last?.body}`;
    });
    throw new Error(`/readyz not recovered within ${timeoutMs} ms: ${latest.join('; ')}`);
  }

  /** ms from `fromMs` until every replica answered 200 with no 503 after; undefined if never. */
  recoveredAfter(fromMs: number): number | undefined {
    const identities = new Set(this.samples.map((s) => s.identity));
    let latest = fromMs;
    for (const identity of identities) {
      const mine = this.samples.filter((s) => s.identity === identity && s.atMs >= fromMs);
      const lastBad = mine.findLast((s) => s.status !== 200);
      const firstGood = mine.find((s) => s.status === 200 && s.atMs > (lastBad?.atMs ?? 0));
      if (firstGood === undefined) return undefined;
      latest = Math.max(latest, firstGood.atMs);
    }
    return latest - fromMs;
  }
}

interface Listed {
  items: {
    metadata: { name: string };
    status?: { lastSuccessfulSyncTime?: string; activeRun?: { jobName?: string } };
  }[];
}

/** How the load's status caught up after `fromMs`: when all had synced since, or who had not. */
export interface CatchUp {
  /** ms until every Integration's last successful sync was later than `fromMs`; NaN if not within the wait. */
  ms: number;
  /** Who had not, with their last sync and active Job, when the wait ended. */
  behind: string[];
}

/** Waits up to `timeoutMs` for every load Integration's last successful sync to pass `fromMs`. */
export async function statusCaughtUp(
  client: ClusterClient,
  load: Load,
  fromMs: number,
  timeoutMs = 120_000,
): Promise<CatchUp> {
  const custom = client.kubeConfig.makeApiClient(CustomObjectsApi);
  let behind: string[] = [];
  while (Date.now() - fromMs < timeoutMs) {
    const listed = (await custom
      .listNamespacedCustomObject({
        group: 'tributary.dev',
        version: 'v1alpha1',
        namespace: load.namespace,
        plural: 'integrations',
      })
      .catch(() => ({ items: [] }))) as Listed;
    behind = load.names.flatMap((name) => {
      const status = listed.items.find((i) => i.metadata.name === name)?.status;
      const syncedAt = Date.parse(status?.lastSuccessfulSyncTime ?? '');
      if (syncedAt > fromMs) return []; // NaN (never synced) is behind too
      return [
        `${name} (last ${status?.lastSuccessfulSyncTime}, active ${status?.activeRun?.jobName})`,
      ];
    });
    if (behind.length === 0) return { ms: Date.now() - fromMs, behind };
    await sleep(250);
  }
  return { ms: Number.NaN, behind };
}

/**
 * Waits until the API server accepts a write again (an admin ConfigMap update, 5 s per try): a
 * restarted etcd or kube-apiserver answers reads before its writes go through. Returns the ms waited.
 */
export async function writable(client: ClusterClient, timeoutMs = 180_000): Promise<number> {
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  const startedAt = Date.now();
  const body = (at: number) => ({ metadata: { name: 'chaos-probe' }, data: { at: String(at) } });
  while (Date.now() - startedAt < timeoutMs) {
    const attempt = core
      .replaceNamespacedConfigMap({
        name: 'chaos-probe',
        namespace: 'default',
        body: body(Date.now()),
      })
      .catch(() =>
        core.createNamespacedConfigMap({ namespace: 'default', body: body(Date.now()) }),
      );
    const done = await Promise.race([
      attempt.then(
        () => true,
        () => false,
      ),
      sleep(5_000).then(() => false),
    ]);
    if (done) return Date.now() - startedAt;
    await sleep(250);
  }
  throw new Error(`the API server took no write within ${timeoutMs} ms`);
}
