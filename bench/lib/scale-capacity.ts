/**
 * The capacity phase: spec changes at rising rates on both sides (each change to another object,
 * round robin), and the work queue's wait p99 at each rate, from the histogram
 * `workqueue_queue_duration_seconds` that both export under controller-runtime's / client-go's
 * name (Tributary's queue `integration` on the operator's /metrics, the controller manager's
 * queue `cronjob` on its own). The p99 is read from the buckets' growth over the step: the upper
 * bound of the bucket holding the 99th percentile. The change: the starting deadline
 * (`spec.overrides.sync.startingDeadline`, `spec.startingDeadlineSeconds`), which each side
 * handles with a reconcile and the CronJob controller with a sync.
 */
import type { Cluster } from '../../dev/cluster/cluster.ts';
import type { MeasuredOperator } from './scale-cluster.ts';
import { patchObject } from './scale-objects.ts';
import type { Side } from './scale-audit.ts';
import type { Round } from './scale-phases.ts';

/** Cumulative bucket counts by upper bound (seconds; +Inf last). */
type Buckets = Map<number, number>;

/** The buckets of `workqueue_queue_duration_seconds` for queue `name` in a Prometheus text. */
export function queueBuckets(text: string, name: string): Buckets {
  const buckets: Buckets = new Map();
  const pattern = /^workqueue_queue_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm;
  for (const match of text.matchAll(pattern)) {
    const labels = match[1] ?? '';
    if (!labels.includes(`name="${name}"`)) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1] ?? '';
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  return buckets;
}

/** The p99's bucket bound over what was added between `before` and `after`; NaN if nothing was. */
export function p99Between(before: Buckets, after: Buckets): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const grown = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = grown.at(-1) ?? 0;
  if (total <= 0) return Number.NaN;
  const index = grown.findIndex((count) => count >= 0.99 * total);
  return bounds[index] ?? Number.NaN;
}

/** Reads each side's queue buckets. */
export async function readQueues(
  cluster: Cluster,
  operator: MeasuredOperator,
): Promise<Record<Side, Buckets>> {
  const tributary = (await operator.process.get('/metrics'))?.body ?? '';
  const cronjob = (await cluster.cronJobController?.metrics()) ?? '';
  return {
    tributary: queueBuckets(tributary, 'integration'),
    cronjob: queueBuckets(cronjob, 'cronjob'),
  };
}

/** One spec change of object `i` on `side`, the `k`-th of the phase: its starting deadline. */
function change(cluster: Cluster, side: Side, i: number, k: number): Promise<unknown> {
  return patchObject(cluster, side, i, {
    cronjob: { startingDeadlineSeconds: 3600 + k },
    tributary: { sync: { startingDeadline: `${3600 + k}s` } },
  });
}

/**
 * Sends `rate` changes per second to each side for `durationMs` (open loop: each on its own
 * schedule, so a slow answer does not slow the sender); resolves with how many failed.
 */
export async function changeAtRate(
  cluster: Cluster,
  n: number,
  rate: number,
  durationMs: number,
  offset: number,
): Promise<number> {
  const total = Math.round((rate * durationMs) / 1000);
  const started = Date.now();
  let failed = 0;
  const sends: Promise<unknown>[] = [];
  for (let k = 0; k < total; k++) {
    const wait = started + (k * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const side of ['tributary', 'cronjob'] as const)
      sends.push(
        change(cluster, side, (offset + k) % n, offset + k).catch(() => {
          failed++;
        }),
      );
  }
  await Promise.all(sends);
  return failed;
}

/** The p99 of one side at one rate, seconds (a bucket bound), NaN when nothing was dequeued. */
type StepResult = Record<Side, number>;

/** The highest rate whose p99's bucket is within 1 s (`le="1"` or lower), if any. */
function highestWithinASecond(steps: { rate: number; p99: number }[]): number | undefined {
  const under = steps.filter((s) => s.p99 <= 1).map((s) => s.rate);
  return under.length === 0 ? undefined : Math.max(...under);
}

/**
 * Capacity: each rate of `round.capacityRates` for `round.capacityStepMs`, then a pause for the
 * queues to drain before the buckets are read; the p99 per rate and the highest rate within 1 s.
 */
export async function capacity(round: Round, operator: MeasuredOperator): Promise<void> {
  const base = { phase: 'capacity', n: round.n, budget: round.budget };
  const steps: { rate: number; result: StepResult }[] = [];
  let offset = 0;
  for (const rate of round.capacityRates) {
    const before = await readQueues(round.cluster, operator);
    const failed = await changeAtRate(round.cluster, round.n, rate, round.capacityStepMs, offset);
    offset += Math.round((rate * round.capacityStepMs) / 1000);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const after = await readQueues(round.cluster, operator);
    const result = {
      tributary: p99Between(before.tributary, after.tributary),
      cronjob: p99Between(before.cronjob, after.cronjob),
    };
    steps.push({ rate, result });
    round.report.add(base, `queue-wait-p99-s-at-${rate}-per-s`, {
      ...result,
      note: `upper bound of the p99's bucket; ${failed} changes failed`,
    });
  }
  const highest = (side: Side) =>
    highestWithinASecond(steps.map((s) => ({ rate: s.rate, p99: s.result[side] })));
  round.report.add(base, 'highest-rate-p99-within-1s', {
    tributary: highest('tributary'),
    cronjob: highest('cronjob'),
    note: `changes per second per side, of ${round.capacityRates.join(', ')}; n/a: none`,
  });
}
