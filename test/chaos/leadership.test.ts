/**
 * Chaos: the leader and the control plane under faults, with a load of Integrations on 10 s
 * intervals (support/load.ts) and two operator replicas. Figures per scenario (figures.ts); every
 * Job ever created comes from the API server's audit log (ledger.ts), so a duplicate or a miss
 * cannot hide behind a prune or a watch gap.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../dev/cluster/cluster.ts';
import { startChaosCluster } from './support/cluster.ts';
import { count, FULL, percentile, report, reportDir } from './support/figures.ts';
import { ReadyzWatch, statusCaughtUp, writable } from './support/catch-up.ts';
import { statusTrue } from './support/status-truth.ts';
import { createdJobs } from './support/ledger.ts';
import {
  judgeLoad,
  LOAD_DEADLINE_MS,
  LOAD_INTERVAL_MS,
  notReady,
  startLoad,
  type Load,
} from './support/load.ts';
import { Replicas } from './support/replicas.ts';
import { sentinelLeaks } from './support/sentinels.ts';

/**
 * How soon after the API server's return the operator's first Job must come: within the load's
 * interval plus its starting deadline, the bound a miss is judged by. Often it is under a second
 * (informers woken at once); when every Integration still had a run in flight (Forbid), the next
 * Job waits for kube-controller-manager to complete one, which after a restart took up to 31 s.
 */
const CATCH_UP_BUDGET_MS = LOAD_INTERVAL_MS + LOAD_DEADLINE_MS;

/** Integrations of the load: 50 on 10 s intervals in the full counts. */
const LOAD_SIZE = count(6, 50);

let cluster: Cluster;
let load: Load;
const sets: Replicas[] = [];

beforeAll(async () => {
  cluster = await startChaosCluster();
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const labels = { 'pod-security.kubernetes.io/enforce': 'restricted' };
  await core.createNamespace({ body: { metadata: { name: 'chaos-load', labels } } });
  const first = replicas('warmup');
  await first.topUp(1);
  load = await startLoad(cluster, cluster.auditLogPath, 'chaos-load', LOAD_SIZE);
  await first.stopAll();
});

afterAll(async () => {
  await Promise.all(sets.map((set) => set.stopAll()));
  await cluster.stop();
});

function replicas(prefix: string, env: Record<string, string> = {}): Replicas {
  const set = new Replicas(cluster, prefix, { env });
  sets.push(set);
  return set;
}

/** ms from `fromMs` to the first Job the API server created after it (by any replica). */
function firstJobAfter(fromMs: number): number | undefined {
  const after = createdJobs(cluster.auditLogPath, [load.namespace])
    .map((job) => job.createdAtMs)
    .filter((at) => at > fromMs);
  return after.length === 0 ? undefined : Math.min(...after) - fromMs;
}

async function waitForJobAfter(fromMs: number): Promise<number> {
  for (let i = 0; i < 900; i++) {
    const ms = firstJobAfter(fromMs);
    if (ms !== undefined) return ms;
    await sleep(100);
  }
  throw new Error('no Job within 90 s');
}

describe('failover, measured', () => {
  it('crash and graceful stop → first Job by the new leader', async () => {
    const set = replicas('failover');
    await set.topUp(2);
    const trials = count(3, 20);
    const crash: number[] = [];
    const graceful: number[] = [];
    for (let trial = 0; trial < trials * 2; trial++) {
      const mode = trial % 2 === 0 ? 'crash' : 'graceful';
      const leader = await set.leader();
      await waitForJobAfter(Date.now()); // it acts
      const endedAt = Date.now();
      await set.end(leader, mode === 'graceful');
      (mode === 'crash' ? crash : graceful).push(await waitForJobAfter(endedAt));
      await set.topUp(2);
    }
    const figures = {
      trials,
      crashP50Ms: percentile(crash, 50),
      crashMaxMs: Math.max(...crash),
      gracefulP50Ms: percentile(graceful, 50),
      gracefulMaxMs: Math.max(...graceful),
      crashes: set.crashed().length,
    };
    report('failover', figures);
    await set.stopAll();
    expect(figures.crashes).toBe(0);
    // The targets hold over the report's 20 + 20 trials; the 3 + 3 of the short form are a smoke
    // run whose worst case (lease 15 s + two jittered 2–4.4 s retries) can pass 20 s by chance.
    expect(figures.crashMaxMs).toBeLessThanOrEqual(count(30_000, 20_000));
    expect(figures.gracefulMaxMs).toBeLessThanOrEqual(count(10_000, 5_000));
  });
});

/**
 * Waits until every Integration of the load has a Job created after `fromMs` (the new leader
 * has caught up), the leader has gone, or 60 s (a leader that cannot catch up is judged by the
 * misses, not here).
 */
async function waitForCatchUp(fromMs: number, leader: { process: { running: boolean } }) {
  const pending = new Set(load.names);
  for (let i = 0; i < 600 && pending.size > 0 && leader.process.running; i++) {
    for (const job of createdJobs(cluster.auditLogPath, [load.namespace]))
      if (job.createdAtMs > fromMs) pending.delete(job.integration);
    await sleep(100);
  }
}

describe('operator kills', () => {
  it('kills the leader at random points: no duplicate, no miss, all Ready', async () => {
    // Crash points as well as SIGKILL from outside: after Job create, mid status write, after a prune.
    const points = 'crash-after-job-create,crash-mid-status-write,crash-after-job-delete';
    // 1 % per passage at 6 Integrations; scaled down with the load, so a leader of the full 50
    // still acts for seconds before a crash point fires (at 1 % it lasted about 7 s: leaderless
    // takeovers back to back, runs missed for want of any leader, not for a fault of one).
    const set = replicas('kills', {
      TRIBUTARY_FAULT_INJECTION: points,
      TRIBUTARY_FAULT_PROBABILITY: String(0.06 / LOAD_SIZE),
    });
    await set.topUp(2);
    const kills = count(4, 100);
    const from = Date.now();
    let external = 0;
    const injected = () => set.crashed().length - set.crashed(true).length;
    while (external + injected() < kills) {
      const leader = await set.leader(undefined, 90_000);
      // A kill at a random point of the new leader's steady state, once it has caught up (a
      // crash point can still fire during the catch-up): kills back to back while it catches
      // up would leave no replica leading long enough to start every run within its deadline.
      await waitForCatchUp(Date.now(), leader);
      await sleep(Math.random() * 8_000);
      if (leader.process.running) {
        await set.end(leader, false);
        external++;
      }
      await set.topUp(2);
    }
    await set.leader(undefined, 90_000);
    await sleep(25_000);
    const judged = judgeLoad(cluster.auditLogPath, { ...load, upAtMs: from });
    const unready = await notReady(cluster, load);
    const figures = {
      kills: external + injected(),
      external,
      injected: injected(),
      crashes: set.crashed(true).length,
      jobs: judged.jobs,
      duplicates: judged.duplicates.count,
      misses: judged.misses.count,
      notReady: unready.length,
      notReadyNames: unready.join(' '),
      samples: [...judged.duplicates.samples, ...judged.misses.samples].join('; '),
    };
    report('operator-kills', figures);
    await set.stopAll();
    expect(figures.crashes).toBe(0);
    expect(figures.duplicates).toBe(0);
    expect(figures.misses).toBe(0);
    expect(unready).toEqual([]);
  });
});

describe('a paused leader', () => {
  it('SIGSTOP past the lease, then SIGCONT: the standby takes over, the old leader creates nothing', async () => {
    const set = replicas('pause');
    await set.topUp(2);
    const rounds = count(1, 5);
    let lateJobs = 0;
    const takeovers: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const leader = await set.leader();
      await waitForJobAfter(Date.now());
      const pausedAt = Date.now();
      leader.process.pause();
      const standby = await set.leader(leader.identity, 60_000);
      takeovers.push(Date.now() - pausedAt);
      await sleep(Math.max(0, 20_000 - (Date.now() - pausedAt)));
      const resumedAt = Date.now();
      leader.process.resume();
      await sleep(15_000);
      lateJobs += createdJobs(cluster.auditLogPath, [load.namespace]).filter(
        // Begun after SIGCONT: a create whose request had reached the API server before the pause
        // (headers sent, body not yet) was acted on before it, and the name lock covers it.
        (job) => job.receivedAtMs >= resumedAt && job.userAgent.includes(`(${leader.identity})`),
      ).length;
      expect(standby.process.running).toBe(true);
    }
    const judged = judgeLoad(cluster.auditLogPath, load);
    const figures = {
      rounds,
      pauseMs: 20_000,
      takeoverMaxMs: Math.max(...takeovers),
      jobsByResumedLeader: lateJobs,
      duplicates: judged.duplicates.count,
      crashes: set.crashed().length,
    };
    report('paused-leader', figures);
    await set.stopAll();
    // The full 5 rounds must show none; a single short round (CI) reports it but fails only on a
    // duplicate: a create already leaving the process as SIGSTOP landed can still reach the API
    // server after SIGCONT (found 2026-12-02; the fence's gate narrows, cannot close, that window).
    if (FULL) expect(figures.jobsByResumedLeader).toBe(0);
    else expect(figures.jobsByResumedLeader).toBeLessThanOrEqual(1);
    expect(figures.duplicates).toBe(0);
    expect(figures.crashes).toBe(0);
  });
});

describe('control-plane restarts', () => {
  it('kube-apiserver and etcd restarted under load: no operator exit, no duplicate, /readyz tells, status catches up', async () => {
    const set = replicas('restarts');
    await set.topUp(2);
    await set.leader();
    const restarts = [
      ...Array.from({ length: count(2, 10) }, () => 'kube-apiserver' as const),
      ...Array.from({ length: count(1, 3) }, () => 'etcd' as const),
    ];
    const readyz = new ReadyzWatch(set.running());
    const behind: string[] = [];
    const untrue: string[] = [];
    const rounds: {
      component: string;
      outageSeen: boolean;
      readyMs: number;
      caughtUpMs: number;
      statusTrueMs: number;
      resumedMs: number;
      restartedMs: number;
      writableMs: number;
    }[] = [];
    for (const component of restarts) {
      const downAt = Date.now();
      await cluster.restart(component, { downMs: 5_000 });
      const restartedMs = Date.now() - downAt;
      const writableMs = await writable(cluster); // "after each restart": once it takes writes
      const backAt = Date.now();
      const [resumedMs, truth, caughtUp] = await Promise.all([
        waitForJobAfter(backAt),
        statusTrue(cluster, load, backAt),
        statusCaughtUp(cluster, load, backAt),
      ]);
      const caughtUpMs = caughtUp.ms;
      const statusTrueMs = truth.ms;
      untrue.push(...truth.behind.map((who) => `${component}: ${who}`));
      behind.push(...caughtUp.behind.map((who) => `${component}: ${who}`));
      const readyMs = await readyz.waitRecovered(backAt);
      rounds.push({
        component,
        outageSeen: readyz.sawOutage(downAt, backAt + 5_000),
        caughtUpMs,
        statusTrueMs,
        resumedMs,
        readyMs,
        restartedMs,
        writableMs,
      });
      console.log(`chaos restart ${component} ${JSON.stringify(rounds.at(-1))}`);
      await sleep(5_000);
    }
    await readyz.stop();
    await sleep(25_000);
    const judged = judgeLoad(cluster.auditLogPath, load);
    const unready = await notReady(cluster, load);
    const of = (component: string) => rounds.filter((r) => r.component === component);
    const figures = {
      apiserverRestarts: of('kube-apiserver').length,
      etcdRestarts: of('etcd').length,
      operatorExits: set.crashed().length,
      apiserverOutagesOnReadyz: of('kube-apiserver').filter((r) => r.outageSeen).length,
      etcdOutagesOnReadyz: of('etcd').filter((r) => r.outageSeen).length,
      restartTookMaxMs: Math.max(...rounds.map((r) => r.restartedMs)),
      firstWriteAfterRestartMaxMs: Math.max(...rounds.map((r) => r.writableMs)),
      readyzRecoveredMaxMs: Math.max(...rounds.map((r) => r.readyMs)),
      statusTrueMaxMs: Math.max(...rounds.map((r) => r.statusTrueMs)),
      statusUntrue: untrue.join('; '),
      statusCaughtUpP50Ms: percentile(
        rounds.map((r) => r.caughtUpMs),
        50,
      ),
      statusCaughtUpMaxMs: Math.max(...rounds.map((r) => r.caughtUpMs)),
      statusNotCaughtUpIn120s: rounds.filter((r) => Number.isNaN(r.caughtUpMs)).length,
      statusBehind: behind.join('; '),
      firstJobAfterMaxMs: Math.max(...rounds.map((r) => r.resumedMs)),
      duplicates: judged.duplicates.count,
      notReady: unready.length,
    };
    report('control-plane-restarts', figures);
    await set.stopAll();
    expect(figures.operatorExits).toBe(0);
    expect(figures.duplicates).toBe(0);
    expect(unready).toEqual([]);
    expect(figures.apiserverOutagesOnReadyz).toBe(figures.apiserverRestarts);
    expect(figures.firstJobAfterMaxMs).toBeLessThanOrEqual(CATCH_UP_BUDGET_MS);
    // The operator's own catch-up: each status named a run started after the restart and the
    // Job still running, if any, within 120 s (NaN, i.e. not within it, fails this too).
    expect(figures.statusTrueMaxMs).toBeLessThanOrEqual(120_000);
    // The sync catch-up is reported, not asserted: it waits on kube-controller-manager, whose
    // Job controller after back-to-back restarts sat out client-go's grown informer backoff (the
    // pod of a Job the operator created at once started about 50 s later), and under the full load
    // left a few Jobs without a pod for minutes (measured 2026-12-02; test/chaos/README.md).
  });
});

describe('secrets never leak', () => {
  it('finds the sentinels nowhere the operator or its runs wrote', async () => {
    const texts = [];
    const set = replicas('leaks');
    await set.topUp(1);
    await set.leader();
    const metrics = await set.running()[0]?.process.get('/metrics');
    texts.push({ what: 'operator /metrics', text: metrics?.body ?? '' });
    const logs = sets.flatMap((s) => s.logPaths());
    const leaks = await sentinelLeaks(cluster, {
      paths: [...logs, cluster.info.nodeDir, reportDir()],
      texts,
    });
    report('leadership-leaks', {
      scanned: logs.length + 2,
      leaks: leaks.length,
      where: leaks.join(' '),
    });
    expect(leaks).toEqual([]);
  });
});
