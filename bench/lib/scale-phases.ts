/**
 * The phases of one scale round (one cluster, one N, one budget), in the order they run:
 * memory at 0 objects, the objects created, cold start, memory at N, quiet, then the phases not
 * done yet. Each reads its figures from the audit log, `/proc`, the operator's inspector and the
 * controller manager's `/metrics`, and adds them to the report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Cluster } from '../../dev/cluster/cluster.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { readInformer, type InformerReading } from './informer-go.ts';
import { tally, type AuditLog, type Side } from './scale-audit.ts';
import {
  operatorMemory,
  PeakRss,
  rssBytes,
  type Budget,
  type MeasuredOperator,
} from './scale-cluster.ts';
import { SCALE_NAMESPACES } from './scale-objects.ts';
import type { ScaleReport } from './scale-report.ts';

/** Phase names, in the order they run. */
export const PHASES = ['memory', 'cold-start', 'quiet', 'capacity', 'skew', 'burst'] as const;
/** One phase. */
export type Phase = (typeof PHASES)[number];

/** What every phase of a round works with. */
export interface Round {
  cluster: Cluster;
  audit: AuditLog;
  report: ScaleReport;
  n: number;
  budget: Budget;
  phases: ReadonlySet<Phase>;
  /** How long the quiet phase watches, ms. */
  quietMs: number;
  /** How long to let both sides settle before a memory reading, ms. */
  settleMs: number;
  /** Spec changes per second per side, one step each, in the capacity phase. */
  capacityRates: readonly number[];
  /** How long each capacity step lasts, ms. */
  capacityStepMs: number;
  /** How long the skew phase measures, ms. */
  skewMs: number;
  /** The client-go informer program, or why there is none. */
  informer: { binary: string } | { unavailable: string };
}

/** A memory reading of both sides. */
export interface MemoryReading {
  tributaryHeap: number;
  tributaryRss: number;
  cronjobHeap: number;
  cronjobRss: number;
  /** The client-go informer's reading, when it runs. */
  informer?: InformerReading;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The CronJob controller manager's Go heap in use (its /metrics; not after a forced GC). */
async function cronjobHeapBytes(cluster: Cluster): Promise<number> {
  const text = (await cluster.cronJobController?.metrics()) ?? '';
  const value = /^go_memstats_heap_alloc_bytes (\S+)$/m.exec(text)?.[1];
  return value === undefined ? Number.NaN : Number(value);
}

/** Reads both sides' memory after `settleMs`. */
export async function readMemory(round: Round, operator: MeasuredOperator): Promise<MemoryReading> {
  await sleep(round.settleMs);
  const tributary = await operatorMemory(operator);
  const reading: MemoryReading = {
    tributaryHeap: tributary.usedBytes,
    tributaryRss: tributary.rssBytes,
    cronjobHeap: await cronjobHeapBytes(round.cluster),
    cronjobRss: rssBytes(round.cluster.cronJobController?.pid),
  };
  if ('binary' in round.informer) {
    const { kubeconfigPath } = round.cluster.info;
    const namespace = SCALE_NAMESPACES.tributary;
    reading.informer = await readInformer(round.informer.binary, kubeconfigPath, namespace, 2000);
  }
  return reading;
}

/** The memory figures against the client-go informer program (or why there are none). */
function reportInformer(round: Round, zero: MemoryReading, full: MemoryReading): void {
  const base = { phase: 'memory', n: round.n, budget: round.budget };
  if (zero.informer === undefined || full.informer === undefined) {
    const reason = 'unavailable' in round.informer ? round.informer.unavailable : 'no reading';
    round.report.skip({ ...base, phase: 'memory-informer-go' }, reason);
    return;
  }
  const kbPerObject = (at0: number, atN: number) => (atN - at0) / round.n / 1024;
  const note = `informer-go: Go HeapAlloc after runtime.GC(), ${full.informer.objects} objects cached`;
  round.report.addAgainst(base, 'heap-kb-per-object', 'informer-go', {
    tributary: kbPerObject(zero.tributaryHeap, full.tributaryHeap),
    baseline: kbPerObject(zero.informer.heapAllocBytes, full.informer.heapAllocBytes),
    note,
  });
  round.report.addAgainst(base, 'rss-kb-per-object', 'informer-go', {
    tributary: kbPerObject(zero.tributaryRss, full.tributaryRss),
    baseline: kbPerObject(zero.informer.rssBytes, full.informer.rssBytes),
  });
  round.report.addAgainst(base, 'heap-mib-at-n', 'informer-go', {
    tributary: full.tributaryHeap / 2 ** 20,
    baseline: full.informer.heapAllocBytes / 2 ** 20,
    note,
  });
}

/** Reports the memory phase: absolute figures at N and the slope per object from 0. */
export function reportMemory(round: Round, zero: MemoryReading, full: MemoryReading): void {
  const base = { phase: 'memory', n: round.n, budget: round.budget };
  const mib = (bytes: number) => bytes / 2 ** 20;
  const kbPerObject = (at0: number, atN: number) => (atN - at0) / round.n / 1024;
  const goHeap = 'cronjob: go_memstats_heap_alloc_bytes from /metrics, not after a forced GC';
  round.report.add(base, 'heap-mib-at-0', {
    tributary: mib(zero.tributaryHeap),
    cronjob: mib(zero.cronjobHeap),
    note: goHeap,
  });
  round.report.add(base, 'heap-mib-at-n', {
    tributary: mib(full.tributaryHeap),
    cronjob: mib(full.cronjobHeap),
    note: goHeap,
  });
  round.report.add(base, 'heap-kb-per-object', {
    tributary: kbPerObject(zero.tributaryHeap, full.tributaryHeap),
    cronjob: kbPerObject(zero.cronjobHeap, full.cronjobHeap),
    note: goHeap,
  });
  round.report.add(base, 'rss-mib-at-0', {
    tributary: mib(zero.tributaryRss),
    cronjob: mib(zero.cronjobRss),
  });
  round.report.add(base, 'rss-mib-at-n', {
    tributary: mib(full.tributaryRss),
    cronjob: mib(full.cronjobRss),
  });
  round.report.add(base, 'rss-kb-per-object', {
    tributary: kbPerObject(zero.tributaryRss, full.tributaryRss),
    cronjob: kbPerObject(zero.cronjobRss, full.cronjobRss),
  });
  reportInformer(round, zero, full);
}

/** How many Integrations have a status for their current generation. */
async function reconciled(round: Round): Promise<number> {
  const custom = round.cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({
    group: 'tributary.dev',
    version: 'v1alpha1',
    namespace: SCALE_NAMESPACES.tributary,
    plural: 'integrations',
  })) as {
    items: { metadata: { generation?: number }; status?: { observedGeneration?: number } }[];
  };
  return list.items.filter((i) => i.status?.observedGeneration === i.metadata.generation).length;
}

/** Waits until every Integration has been reconciled once; resolves with when that was seen. */
export async function waitForAllReconciled(round: Round): Promise<number> {
  await waitFor(
    `all ${round.n} Integrations reconciled`,
    async () => ((await reconciled(round)) === round.n ? true : undefined),
    { timeoutMs: 30 * 60_000, intervalMs: round.n > 1000 ? 2000 : 500 },
  );
  return Date.now();
}

/**
 * When the CronJob controller manager, restarted at `fromMs`, logged its caches synced: it
 * streams its initial lists as watches (WatchList), so the audit log shows when they began, not
 * when they were complete. klog's timestamps carry no year (this one's is used) and are in the
 * process's time zone (UTC here).
 */
async function cronjobCachesSynced(round: Round, fromMs: number): Promise<number> {
  const path = join(round.cluster.info.dir, 'logs', 'cronjob-controller-manager.log');
  const year = new Date(fromMs).getUTCFullYear();
  return waitFor(
    'the CronJob controller to sync its caches',
    () => {
      const synced = readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line.includes('"Caches are synced" controller="cronjob"'))
        .map((line) => klogTime(line, year))
        .find((ms) => ms >= fromMs - 1000);
      return Promise.resolve(synced);
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}

/** `I1203 13:16:21.792963 ...` → ms epoch (UTC). */
function klogTime(line: string, year: number): number {
  const m = /^[IWE](\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  return m === null ? Number.NaN : Date.parse(`${year}-${m[1]}-${m[2]}T${m[3]}Z`);
}

/** When `side` first began a LIST or WATCH of `resource` at or after `fromMs`. */
async function firstListOrWatch(
  round: Round,
  side: Side,
  resource: string,
  fromMs: number,
): Promise<number> {
  return waitFor(
    `the ${side} side's first LIST or WATCH of ${resource}`,
    () => {
      const found = round.audit
        .between(side, fromMs, Number.POSITIVE_INFINITY)
        .find((r) => (r.verb === 'list' || r.verb === 'watch') && r.resource === resource);
      return Promise.resolve(found?.atMs);
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}

/**
 * Cold start: the operator was started with the N Integrations already there; its time until
 * every one has a status for its generation, and its requests meanwhile. The CronJob controller
 * writes nothing while nothing is due, so its side is a restart of its process with the N
 * CronJobs there: the time until it logs its caches synced (it then syncs each CronJob from its
 * cache, which nothing outside shows), and its requests in a window as long as Tributary's.
 */
export async function coldStart(
  round: Round,
  operator: MeasuredOperator,
  doneMs: number,
): Promise<void> {
  const base = { phase: 'cold-start', n: round.n, budget: round.budget };
  const from = operator.startedAtMs;
  const tributaryMs = doneMs - from;
  const tributaryList = await firstListOrWatch(round, 'tributary', 'integrations', from);
  const tributaryPeak = operator.peak.stop();
  const restartedMs = Date.now();
  const controller = round.cluster.cronJobController;
  const restarted = controller?.restart();
  const cronjobPeak = new PeakRss(() => controller?.pid, 100);
  await restarted;
  const cronjobList = await firstListOrWatch(round, 'cronjob', 'cronjobs', restartedMs);
  const cronjobSynced = await cronjobCachesSynced(round, restartedMs);
  const cronjobPeakBytes = cronjobPeak.stop();
  const windowMs = Math.max(tributaryMs, 10_000);
  await sleep(Math.max(0, restartedMs + windowMs + 2000 - Date.now()));
  const tributary = tally(round.audit.between('tributary', from, doneMs));
  const cronjob = tally(round.audit.between('cronjob', restartedMs, restartedMs + windowMs));
  round.report.add(base, 'seconds-to-all-reconciled', {
    tributary: tributaryMs / 1000,
    cronjob: (cronjobSynced - restartedMs) / 1000,
    note: 'cronjob: until it logs its caches synced (it writes nothing when nothing is due)',
  });
  round.report.add(base, 'seconds-to-first-list', {
    tributary: (tributaryList - from) / 1000,
    cronjob: (cronjobList - restartedMs) / 1000,
    note: 'to the first LIST or WATCH (WatchList) of Integrations / CronJobs received',
  });
  const window = `cronjob: requests in the first ${(windowMs / 1000).toFixed(1)} s after its restart`;
  const byVerb = `tributary ${JSON.stringify(tributary.byVerb)}, cronjob ${JSON.stringify(cronjob.byVerb)}`;
  round.report.add(base, 'requests', {
    tributary: tributary.mutating + tributary.reads,
    cronjob: cronjob.mutating + cronjob.reads,
    note: `${window}; ${byVerb}`,
  });
  round.report.add(base, 'peak-rss-mib', {
    tributary: tributaryPeak / 2 ** 20,
    cronjob: cronjobPeakBytes / 2 ** 20,
    note: 'sampled from /proc every 200 ms (cronjob: 100 ms) from spawn to all reconciled / caches synced',
  });
  round.report.add(base, 'mutating', {
    tributary: tributary.mutating,
    cronjob: cronjob.mutating,
    note: window,
  });
}

/** Quiet: both sides watched for `quietMs` with nothing due; their requests from the audit log. */
export async function quiet(round: Round): Promise<void> {
  const base = { phase: 'quiet', n: round.n, budget: round.budget };
  const fromMs = Date.now();
  await sleep(round.quietMs);
  const toMs = Date.now();
  await sleep(2000);
  const minutes = (toMs - fromMs) / 60_000;
  const tributary = tally(round.audit.between('tributary', fromMs, toMs));
  const cronjob = tally(round.audit.between('cronjob', fromMs, toMs));
  const note = `over ${minutes.toFixed(2)} min; by verb: tributary ${JSON.stringify(tributary.byVerb)}, cronjob ${JSON.stringify(cronjob.byVerb)}`;
  round.report.add(base, 'mutating', {
    tributary: tributary.mutating,
    cronjob: cronjob.mutating,
    note,
  });
  round.report.add(base, 'reads', { tributary: tributary.reads, cronjob: cronjob.reads, note });
  round.report.add(base, 'mutating-per-min', {
    tributary: tributary.mutating / minutes,
    cronjob: cronjob.mutating / minutes,
  });
  round.report.add(base, 'reads-per-min', {
    tributary: tributary.reads / minutes,
    cronjob: cronjob.reads / minutes,
  });
}
