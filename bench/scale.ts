/**
 * `npm run bench -- scale`: Tributary at N Integrations side by side with Kubernetes' CronJob
 * controller at N CronJobs of the same schedules, in one cluster per (N, budget), both sides
 * with the same client budget and workers. Prints
 * `scale <phase> N=<n> <metric> tributary=<v> cronjob=<v> ratio=<r>` per figure and writes the
 * same data as JSON. Method and options: bench/README.md, section "scale".
 */
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from '../dev/cluster/cluster.ts';
import { machine } from './lib/report.ts';
import { AuditLog } from './lib/scale-audit.ts';
import {
  startOperator,
  startScaleCluster,
  stopOperator,
  type Budget,
  type MeasuredOperator,
} from './lib/scale-cluster.ts';
import { createNamespaces, createObjects } from './lib/scale-objects.ts';
import {
  coldStart,
  PHASES,
  quiet,
  readMemory,
  reportMemory,
  waitForAllReconciled,
  type MemoryReading,
  type Phase,
  type Round,
} from './lib/scale-phases.ts';
import { ScaleReport } from './lib/scale-report.ts';
import { capacity } from './lib/scale-capacity.ts';
import { burst, skew } from './lib/scale-timing.ts';
import { informerBinary } from './lib/informer-go.ts';

/** One line for `npm run bench -- --help`. */
export const summary =
  'Tributary vs the CronJob controller at N objects: skew, burst, quiet, capacity, memory, cold start (--n 1000,3000,6000)';

const USAGE = `usage: npm run bench -- scale [options]
  --n 200                 objects per side, comma-separated (one cluster each); full: 1000,3000,6000
  --budget 20/30          client qps/burst of both sides, comma-separated (e.g. 20/30,100/150)
  --workers 5             Integration workers and CronJob syncs (kube-controller-manager's default)
  --phases LIST           of ${PHASES.join(',')}; default all
  --quiet-seconds 60      length of the quiet phase (--full: 600)
  --settle-seconds 10     wait before each memory reading (--full: 30)
  --capacity-rates 5,10,20  spec changes per second per side, one step each (--full: 10,25,50,100,200)
  --capacity-seconds 15   length of each capacity step (--full: 60)
  --skew-seconds 180      length of the skew phase, whole minutes (--full: 900)
  --full                  the real durations
  --out FILE              the JSON file (default: a new file in the temp dir)`;

interface Options {
  counts: number[];
  budgets: Budget[];
  phases: Set<Phase>;
  quietMs: number;
  settleMs: number;
  capacityRates: number[];
  capacityStepMs: number;
  skewMs: number;
  out: string;
}

function parse(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      n: { type: 'string', default: '200' },
      budget: { type: 'string', default: '20/30' },
      workers: { type: 'string', default: '5' },
      phases: { type: 'string', default: PHASES.join(',') },
      'quiet-seconds': { type: 'string' },
      'settle-seconds': { type: 'string' },
      'capacity-rates': { type: 'string' },
      'capacity-seconds': { type: 'string' },
      'skew-seconds': { type: 'string' },
      full: { type: 'boolean', default: false },
      out: { type: 'string', default: join(tmpdir(), `tributary-scale-${Date.now()}.json`) },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const positive = (text: string, what: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`--${what}: not a positive integer: ${text}`);
    return value;
  };
  const workers = positive(values.workers, 'workers');
  const budgets = values.budget.split(',').map((pair) => {
    const [qps = '', burst = ''] = pair.split('/');
    return { qps: positive(qps, 'budget'), burst: positive(burst, 'budget'), workers };
  });
  const phases = values.phases.split(',').map((name) => {
    if (!(PHASES as readonly string[]).includes(name))
      throw new Error(`--phases: unknown phase ${name}`);
    return name as Phase;
  });
  const seconds = (given: string | undefined, smoke: number, full: number, what: string) =>
    1000 * (given === undefined ? (values.full ? full : smoke) : positive(given, what));
  return {
    counts: values.n.split(',').map((n) => positive(n, 'n')),
    budgets,
    phases: new Set(phases),
    quietMs: seconds(values['quiet-seconds'], 60, 600, 'quiet-seconds'),
    settleMs: seconds(values['settle-seconds'], 10, 30, 'settle-seconds'),
    capacityRates: (values['capacity-rates'] ?? (values.full ? '10,25,50,100,200' : '5,10,20'))
      .split(',')
      .map((rate) => positive(rate, 'capacity-rates')),
    capacityStepMs: seconds(values['capacity-seconds'], 15, 60, 'capacity-seconds'),
    skewMs: seconds(values['skew-seconds'], 180, 900, 'skew-seconds'),
    out: values.out,
  };
}

/** Memory at 0 objects: an operator started and stopped before any object exists. */
async function idleMemory(round: Round): Promise<MemoryReading | undefined> {
  if (!round.phases.has('memory')) return undefined;
  const operator = await startOperator(round.cluster, round.budget);
  try {
    return await readMemory(round, operator);
  } finally {
    await stopOperator(operator);
  }
}

/** The phases with the N objects there, one operator started once they all exist. */
async function loadedPhases(round: Round, zero: MemoryReading | undefined): Promise<void> {
  let operator: MeasuredOperator | undefined;
  try {
    operator = await startOperator(round.cluster, round.budget);
    const doneMs = await waitForAllReconciled(round);
    if (round.phases.has('cold-start')) await coldStart(round, operator, doneMs);
    if (zero !== undefined) reportMemory(round, zero, await readMemory(round, operator));
    if (round.phases.has('quiet')) await quiet(round);
    if (round.phases.has('capacity')) await capacity(round, operator);
    if (round.phases.has('skew')) await skew(round);
    if (round.phases.has('burst')) await burst(round);
  } finally {
    await stopOperator(operator);
  }
}

/** One cluster: N objects per side with `budget`; the cluster is stopped even on failure. */
async function runRound(
  options: Options,
  report: ScaleReport,
  n: number,
  budget: Budget,
  informer: Round['informer'],
) {
  console.log(`# N=${n} budget qps=${budget.qps} burst=${budget.burst} workers=${budget.workers}`);
  const cluster: Cluster = await startScaleCluster(budget);
  try {
    const round: Round = {
      cluster,
      audit: new AuditLog(cluster.auditLogPath),
      report,
      n,
      budget,
      phases: options.phases,
      quietMs: options.quietMs,
      settleMs: options.settleMs,
      capacityRates: options.capacityRates,
      capacityStepMs: options.capacityStepMs,
      skewMs: options.skewMs,
      informer,
    };
    const zero = await idleMemory(round);
    await createNamespaces(cluster);
    const shape = { count: n, everyMinute: 0 };
    await Promise.all([
      createObjects(cluster, 'tributary', shape),
      createObjects(cluster, 'cronjob', shape),
    ]);
    await loadedPhases(round, zero);
  } finally {
    await cluster.stop();
  }
}

/** The client-go informer program, built once; a failed build is reported, not fatal. */
async function buildInformer(): Promise<Round['informer']> {
  try {
    return { binary: await informerBinary() };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { unavailable: `building bench/children/informer-go failed: ${message}` };
  }
}

/** Runs every (N, budget) round in turn and writes the JSON. */
export async function run(args: string[]): Promise<void> {
  const options = parse(args);
  if (options === undefined) {
    console.log(USAGE);
    return;
  }
  console.log(`scale: ${machine()}`);
  const report = new ScaleReport();
  const informer = options.phases.has('memory') ? await buildInformer() : { unavailable: 'unused' };
  try {
    for (const n of options.counts)
      for (const budget of options.budgets) await runRound(options, report, n, budget, informer);
  } finally {
    report.write(options.out, {
      machine: machine(),
      options: { ...options, phases: [...options.phases] },
    });
    console.log(`scale: wrote ${options.out}`);
  }
}
