/**
 * Issue 14, point 3: a bad network between the operator and the API server. Two replicas, each
 * reaching the API server through its own Toxiproxy proxy (test/chaos/README.md, "Network"),
 * under load; the leader's link gets seconds of latency, timeouts, connection resets, then a full
 * partition (a black hole) for longer than the lease. No replica may crash, no due run may run
 * twice, the standby must take over, the partitioned leader must stop acting before its lease
 * expires and must not act after the partition heals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../../dev/cluster/cluster.ts';
import { OPERATOR_DEPLOYMENT, OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import {
  type Proxy,
  startToxiproxy,
  type Toxic,
  type Toxiproxy,
} from '../../dev/toxiproxy/server.ts';
import { startChaosCluster } from './support/cluster.ts';
import { count, type Figures, report, reportDir } from './support/figures.ts';
import { createdJobs } from './support/ledger.ts';
import { judgeLoad, type Load, notReady, startLoad } from './support/load.ts';
import { credentialIdOf, LeaseWatcher, logTime } from './support/attribution.ts';
import { sentinelLeaks } from './support/sentinels.ts';

/** Each fault lasts this long on the leader's link (the partition: longer than the lease). */
const FAULT_MS = count(15_000, 60_000);
const PARTITION_MS = count(25_000, 45_000);
const INTEGRATIONS = count(6, 50);

/** The elector's log line at its renew deadline, from when the lease fence refuses writes. */
const STEPPED_DOWN = 'failed to renew lease within the renew deadline; stepping down';

/** A replica and the proxy its kubeconfig points at. */
interface Replica {
  identity: string;
  proxy: Proxy;
  operator: OperatorProcess;
  credentialId: string;
}

/** The faults before the partition, each on the current leader's link for FAULT_MS. */
const FAULTS: { name: string; toxics: Toxic[] }[] = [
  // 3 s ± 1 s on every answer: a renewal (GET + PUT) takes 4–8 s of its 10 s deadline.
  { name: 'latency', toxics: [{ type: 'latency', attributes: { latency: 3000, jitter: 1000 } }] },
  // Half the connections go silent and are closed 4 s later.
  { name: 'timeouts', toxics: [{ type: 'timeout', toxicity: 0.5, attributes: { timeout: 4000 } }] },
  // Half the connections are reset (TCP RST) half a second after their first answer.
  {
    name: 'resets',
    toxics: [{ type: 'reset_peer', toxicity: 0.5, attributes: { timeout: 500 } }],
  },
];

/** A full partition: nothing passes either way and open connections hang (no FIN, no RST). */
const BLACK_HOLE: Toxic[] = [
  { name: 'hole_down', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } },
  { name: 'hole_up', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
];

describe('chaos: a bad network between the operator and the API server', () => {
  let cluster: Cluster;
  let toxiproxy: Toxiproxy;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    cluster = await startChaosCluster();
    toxiproxy = await startToxiproxy();
  });

  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.operator.kill()));
    await (toxiproxy as Toxiproxy | undefined)?.stop();
    await (cluster as Cluster | undefined)?.stop();
  });

  async function startReplica(identity: string): Promise<Replica> {
    const upstream = new URL(cluster.info.server).host;
    const proxy = await toxiproxy.createProxy(identity, upstream);
    const operator = await OperatorProcess.start(cluster, {
      identity,
      server: `https://${proxy.listen}`,
      env: { LOG_LEVEL: 'info' },
    });
    const replica = { identity, proxy, operator, credentialId: credentialIdOf(operator) };
    replicas.push(replica);
    await waitFor(`${identity} ready`, async () =>
      (await operator.get('/readyz'))?.status === 200 ? true : undefined,
    );
    return replica;
  }

  /** Waits until every Integration started a run after `sinceMs` (ms it took). */
  async function recovered(load: Load, what: string, sinceMs: number): Promise<number> {
    await waitFor(
      `a run of every Integration after the ${what}`,
      () => {
        const exited = replicas.find((replica) => !replica.operator.running);
        if (exited !== undefined) throw new Error(`replica ${exited.identity} exited`);
        const started = new Set(
          createdJobs(cluster.auditLogPath, [load.namespace])
            .filter((job) => job.createdAtMs > sinceMs)
            .map((job) => job.integration),
        );
        return Promise.resolve(load.names.every((name) => started.has(name)) ? true : undefined);
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    return Date.now() - sinceMs;
  }

  function judgeLoadJobs(load: Load) {
    return createdJobs(cluster.auditLogPath, [load.namespace]);
  }

  it('keeps every run single, survives, and fails over from a partitioned leader', async () => {
    const figures: Figures = { integrations: INTEGRATIONS };
    const lease = new LeaseWatcher(cluster, OPERATOR_DEPLOYMENT);
    await startReplica('net-a');
    await waitFor('net-a leading', async () =>
      (await lease.holder().catch(() => '')) === 'net-a' ? true : undefined,
    );
    await startReplica('net-b');
    await cluster.kubectl(['create', 'namespace', 'chaos-network']);
    const load = await startLoad(cluster, cluster.auditLogPath, 'chaos-network', INTEGRATIONS);
    const leaderOf = async () => {
      const holder = await lease.holder();
      const leader = replicas.find((replica) => replica.identity === holder);
      if (leader === undefined) throw new Error(`lease held by ${holder}, no replica of ours`);
      return leader;
    };

    for (const fault of FAULTS) {
      const leader = await leaderOf();
      for (const toxic of fault.toxics) await leader.proxy.addToxic(toxic);
      await sleep(FAULT_MS);
      await leader.proxy.clearToxics();
      figures[`${fault.name}LeaderAfter`] = await lease.holder();
      figures[`${fault.name}RecoveryMs`] = await recovered(load, fault.name, Date.now());
    }

    const old = await leaderOf();
    const standby = replicas.find((replica) => replica !== old) ?? old;
    lease.start();
    const partitionMs = Date.now();
    for (const toxic of BLACK_HOLE) await old.proxy.addToxic(toxic);
    await sleep(PARTITION_MS);
    await old.proxy.clearToxics();
    const healedMs = Date.now();
    figures.partitionRecoveryMs = await recovered(load, 'partition', healedMs);
    await sleep(count(15_000, 30_000)); // the old leader, healed, has time to act (it must not)
    await lease.stop();

    const creates = judgeLoadJobs(load);
    const byOld = creates.filter((job) => job.credentialId === old.credentialId);
    const byStandby = creates.filter((job) => job.credentialId === standby.credentialId);
    const lastByOld = byOld.filter((job) => job.createdAtMs <= healedMs).at(-1)?.createdAtMs;
    const firstByStandby = byStandby.find((job) => job.createdAtMs >= partitionMs)?.createdAtMs;
    // The fence refuses writes from the renew deadline on; "stopped leading" follows the drain.
    const steppedDownMs = logTime(old.operator, STEPPED_DOWN, partitionMs);
    const stoppedMs = logTime(old.operator, 'stopped leading', partitionMs);
    const expiryMs = lease.expiryOf(old.identity);
    const since = (ms: number | undefined) => (ms === undefined ? null : ms - partitionMs);
    Object.assign(figures, {
      partitionMs: PARTITION_MS,
      oldLeader: old.identity,
      leaderAfter: await lease.holder(),
      oldLastCreateMs: since(lastByOld),
      standbyFirstCreateMs: since(firstByStandby),
      oldSteppedDownMs: since(steppedDownMs),
      oldStoppedLeadingMs: since(stoppedMs),
      oldLeaseExpiryMs: since(expiryMs),
      stoppedBeforeExpiry:
        steppedDownMs !== undefined &&
        expiryMs !== undefined &&
        steppedDownMs < expiryMs &&
        (lastByOld ?? 0) < expiryMs,
      oldCreatesAfterHeal: byOld.filter((job) => job.createdAtMs > healedMs).length,
      unattributed: creates.filter((job) => job.credentialId === '').length,
    });

    const judged = judgeLoad(cluster.auditLogPath, load);
    const crashes = replicas.filter((replica) => !replica.operator.running).length;
    const unready = await waitFor(
      'every Integration Ready',
      async () => ((await notReady(cluster, load)).length === 0 ? [] : undefined),
      { timeoutMs: 60_000, intervalMs: 1000 },
    ).catch(async () => notReady(cluster, load));
    const metrics = await Promise.all(
      replicas.map(async (replica) => ({
        what: `${replica.identity} /metrics`,
        text: (await replica.operator.get('/metrics'))?.body ?? '',
      })),
    );
    // Terms lost by either replica (to latency, timeouts and resets as well as the partition).
    figures.leaderLosses = metrics
      .map(({ text }) =>
        Number(/^tributary_leader_lost_total(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0),
      )
      .reduce((sum, n) => sum + n, 0);
    // The healed old leader is a working standby: stopped gracefully, the leader hands over to it.
    const handbackMs = Date.now();
    await standby.operator.stop();
    const handback = await waitFor(
      `${old.identity} creating Jobs again after ${standby.identity} stopped`,
      () => {
        const first = judgeLoadJobs(load).find(
          (job) => job.credentialId === old.credentialId && job.createdAtMs > handbackMs,
        );
        return Promise.resolve(first?.createdAtMs);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch(() => undefined);
    figures.handbackFirstCreateMs = handback === undefined ? null : handback - handbackMs;
    const leaks = await sentinelLeaks(cluster, {
      paths: [...replicas.map((r) => r.operator.logPath), cluster.info.nodeDir, reportDir()],
      texts: metrics,
    });
    Object.assign(figures, {
      jobs: judged.jobs,
      duplicates: judged.duplicates.count,
      misses: judged.misses.count,
      crashes,
      notReady: unready.length,
      leaks: leaks.length,
    });
    report('network', figures);

    expect(judged.duplicates.samples).toEqual([]);
    expect(crashes, 'an operator replica exited').toBe(0);
    expect(judged.misses.samples).toEqual([]);
    expect(figures.leaderAfter, 'the standby took over').toBe(standby.identity);
    expect(firstByStandby, 'the standby created a Job after the partition').toBeDefined();
    expect(figures.stoppedBeforeExpiry, 'the old leader stopped before its lease expired').toBe(
      true,
    );
    expect(figures.oldCreatesAfterHeal, 'the old leader acted after healing').toBe(0);
    expect(figures.handbackFirstCreateMs, 'the healed old leader took over again').not.toBeNull();
    expect(figures.unattributed, 'every Job create names its credential').toBe(0);
    expect(unready).toEqual([]);
    expect(leaks).toEqual([]);
  });
});
