/**
 * The scale benchmark's control plane, one per (N, budget): no process node, kube-scheduler,
 * kwok's fake Nodes, the CronJob controller in a controller manager of its own with the budget,
 * the audit policy of scale-audit.ts, and the install (CRDs, RBAC, FlowSchema; the operator
 * Deployment at 0 replicas). The operator runs out of process as its ServiceAccount with the
 * same budget and worker count, leader election off as the CronJob controller manager's is.
 */
import { readFileSync } from 'node:fs';
import { startCluster, type Cluster } from '../../dev/cluster/cluster.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { freePort, waitFor } from '../../dev/cluster/processes.ts';
import { Inspector, type HeapSample } from '../../dev/cluster/inspector.ts';
import { SCALE_AUDIT_POLICY } from './scale-audit.ts';

/** The client budget both sides get. */
export interface Budget {
  /** Requests per second (`--kube-api-qps` on both). */
  qps: number;
  /** Burst (`--kube-api-burst` on both). */
  burst: number;
  /** Concurrent reconciles (`--workers`) / CronJob syncs (`--concurrent-cron-job-syncs`). */
  workers: number;
}

/** Starts the cluster for one round; the caller stops it. */
export async function startScaleCluster(budget: Budget): Promise<Cluster> {
  const cluster = await startCluster({
    processNode: false,
    scheduler: true,
    kwok: { nodes: 4 },
    cronJobController: { ...budget },
    auditPolicy: SCALE_AUDIT_POLICY,
    keepDir: process.env.TRIBUTARY_KEEP_CLUSTER === '1',
  });
  try {
    await installOperator(cluster);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** The highest RSS of a process, sampled from `/proc` every `intervalMs` until stopped. */
export class PeakRss {
  #peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: () => number | undefined, intervalMs = 200) {
    const sample = () => {
      try {
        this.#peak = Math.max(this.#peak, rssBytes(pid()));
      } catch {
        // The process is gone (stopped or restarting): nothing to sample.
      }
    };
    sample();
    this.#timer = setInterval(sample, intervalMs);
  }

  /** The highest RSS seen so far, bytes, and stops sampling. */
  stop(): number {
    clearInterval(this.#timer);
    return this.#peak;
  }
}

/** An operator process with its inspector, for heap readings. */
export interface MeasuredOperator {
  process: OperatorProcess;
  inspector: Inspector;
  /** When it was spawned, ms epoch. */
  startedAtMs: number;
  /** Its RSS peak since it was spawned (the initial lists included). */
  peak: PeakRss;
}

/** Starts the operator with `budget`, inspectable, and waits for its `/readyz`. */
export async function startOperator(cluster: Cluster, budget: Budget): Promise<MeasuredOperator> {
  const port = await freePort();
  const startedAtMs = Date.now();
  const operator = await OperatorProcess.start(cluster, {
    leaderElection: false,
    nodeArgs: [`--inspect=127.0.0.1:${port}`],
    env: {
      LOG_LEVEL: 'info',
      KUBE_API_QPS: String(budget.qps),
      KUBE_API_BURST: String(budget.burst),
      WORKERS: String(budget.workers),
    },
  });
  const peak = new PeakRss(() => operator.pid);
  try {
    await waitFor(
      'the operator to be ready',
      async () => ((await operator.get('/readyz'))?.status === 200 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    return { process: operator, inspector: await Inspector.connect(port), startedAtMs, peak };
  } catch (error) {
    peak.stop();
    await operator.kill();
    throw error;
  }
}

/** Closes the inspector and stops the operator (SIGTERM, then SIGKILL after 15 s). */
export async function stopOperator(operator: MeasuredOperator | undefined): Promise<void> {
  if (operator === undefined) return;
  operator.peak.stop();
  operator.inspector.close();
  const stopped = operator.process.stop();
  const timeout = new Promise((resolve) => setTimeout(resolve, 15_000, 'timeout'));
  if ((await Promise.race([stopped, timeout])) === 'timeout') await operator.process.kill();
}

/** A process's resident set, bytes, from `/proc/<pid>/status` (VmRSS); NaN when unknown. */
export function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}

/** The operator's heap after GC and its RSS (from /proc, as for the CronJob controller). */
export async function operatorMemory(operator: MeasuredOperator): Promise<HeapSample> {
  const heap = await operator.inspector.heap();
  return { ...heap, rssBytes: rssBytes(operator.process.pid) };
}
