/**
 * `npm run bench -- sync`: records per second through the Tributary sync runtime against a plain
 * fetch loop over the same simulators, side by side in one run, and the peak RSS of both.
 *
 * For each record count: one simulators process (generic cursor API + destination) serves every
 * run; each run is a fresh measured process (runtime or baseline, alternating which goes first),
 * the destination is reset before it and must hold exactly N records after it. See README.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolvePolicy } from '../operator/api/index.ts';
import { RUN_VERSION, RunEnv, type RunInput } from '../operator/api/run-input.ts';
import {
  runMeasuredChild,
  startSimulatorProcess,
  type ChildMeasurement,
  type SimulatorProcess,
} from './lib/process.ts';
import { grouped, machine, mebibytes, median, seconds, table, times } from './lib/report.ts';

/** One line for `npm run bench -- --help`. */
export const summary =
  'records/s of the sync runtime vs a plain fetch loop over the same simulators; peak RSS';

const USAGE = `usage: npm run bench -- sync [options]

Records/s through the Tributary sync runtime (bench/children/sync-runtime.ts, the entry of
\`tributary sync\`) against a plain fetch loop (bench/children/sync-baseline.ts) over the same
simulators process, side by side; prints the ratio and the peak RSS of both.

Options:
  --records N[,N...]   record counts, e.g. 10k,100k or 5000 (default 10k,100k)
  --repeat N[,N...]    measured runs per side, per record count (one value: for all); the
                       median is reported (default 3,1: 3 runs at 10k, 1 at 100k, ~5 min)
  --baseline C[,C...]  client(s) of the plain loop: fetch (Node's global fetch), undici
                       (undici.request, the runtime's client) (default fetch)
  --concurrency N      destination writes in flight, both sides (default 8)
  --page-size N        records per source page, both sides (default 100)
  --seed N             simulator data seed (default 1)
  --source-latency MS  added to every source page request on both sides, like a remote API's
                       round trip (default 0: the simulator on loopback)
  -h, --help           show this help`;

type Client = 'fetch' | 'undici';
/** `runtime`, or the plain loop on one client. */
type Side = 'runtime' | `baseline-${Client}`;

interface Sample extends ChildMeasurement {
  /** CPU time the simulators process spent during the run, in ms. */
  simulatorCpuMs: number | undefined;
}

interface SizeResult {
  records: number;
  samples: Map<Side, Sample[]>;
}

interface Settings {
  sizes: number[];
  /** Runs per side, per entry of `sizes`. */
  repeats: number[];
  baselines: Client[];
  concurrency: number;
  pageSize: number;
  seed: number;
  /** Added to every source page request (a latency fault on the simulator), ms. */
  sourceLatencyMs: number;
}

/** Runs the sync benchmark with command-line `args`. */
export async function run(args: string[]): Promise<void> {
  const settings = parse(args);
  if (settings === undefined) {
    console.log(USAGE);
    return;
  }
  console.log('sync: Tributary sync runtime vs a plain fetch loop, side by side\n');
  console.log(`machine:    ${machine()}`);
  console.log(
    'simulators: generic cursor API + destination in their own process, shared by both sides; ' +
      'each measured run is a fresh process',
  );
  console.log(
    `settings:   page size ${settings.pageSize}, concurrency ${settings.concurrency}, ` +
      `repeat ${settings.repeats.join(',')} (median), seed ${settings.seed}, ` +
      `baseline client ${settings.baselines.join(',')}, ` +
      `source latency ${settings.sourceLatencyMs} ms per page`,
  );
  console.log(`load:       ${load()}\n`);
  const results: SizeResult[] = [];
  for (const [index, records] of settings.sizes.entries()) {
    results.push(await measureSize(records, settings.repeats[index] ?? 1, settings));
  }
  console.log('');
  console.log(render(results, settings));
  console.log(`\nload at the end: ${load()}`);
}

function parse(args: string[]): Settings | undefined {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      records: { type: 'string', default: '10k,100k' },
      repeat: { type: 'string', default: '3,1' },
      baseline: { type: 'string', default: 'fetch' },
      concurrency: { type: 'string', default: '8' },
      'page-size': { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      'source-latency': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  if (positionals.length > 0) throw new Error(`unexpected ${positionals.join(' ')}\n\n${USAGE}`);
  const pageSize = count(values['page-size'], '--page-size');
  if (pageSize > 1000) throw new Error('--page-size must be at most 1000 (the simulator maximum)');
  const sizes = values.records.split(',').map((size) => count(size.trim(), '--records'));
  const repeats = values.repeat.split(',').map((n) => count(n.trim(), '--repeat'));
  if (repeats.length !== 1 && repeats.length !== sizes.length)
    throw new Error(`--repeat needs one value or one per record count\n\n${USAGE}`);
  const baselines = values.baseline.split(',').map((c) => c.trim());
  for (const client of baselines) {
    if (client !== 'fetch' && client !== 'undici')
      throw new Error(`--baseline takes fetch and/or undici, got ${client}\n\n${USAGE}`);
  }
  return {
    sizes,
    repeats: sizes.map((_, i) => repeats[repeats.length === 1 ? 0 : i] ?? 1),
    baselines: baselines as Client[],
    concurrency: count(values.concurrency, '--concurrency'),
    pageSize,
    seed: Number(values.seed),
    sourceLatencyMs:
      values['source-latency'] === '0' ? 0 : count(values['source-latency'], '--source-latency'),
  };
}

/** A positive integer, with an optional `k` (thousand) suffix. */
function count(raw: string, flag: string): number {
  const match = /^(\d+)(k?)$/i.exec(raw);
  const value = match ? Number(match[1]) * (match[2] ? 1000 : 1) : NaN;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(
      `${flag} must be a positive integer (e.g. 5000 or 10k), got ${raw}\n\n${USAGE}`,
    );
  return value;
}

/** Load average over 1, 5, 15 minutes, against the number of cores. */
function load(): string {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  const cores = availableParallelism();
  const busy =
    one > cores
      ? ' (more than the cores: other work competes; ratios hold, absolute figures drop)'
      : '';
  return `${one.toFixed(2)} ${five.toFixed(2)} ${fifteen.toFixed(2)} on ${cores} cores${busy}`;
}

/** Runs every repeat of every side at one record count against one simulators process. */
async function measureSize(
  records: number,
  repeats: number,
  settings: Settings,
): Promise<SizeResult> {
  const simulators = await startSimulatorProcess([
    '--generic',
    '--destination',
    '--records',
    String(records),
    '--seed',
    String(settings.seed),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-sync-'));
  try {
    const { generic, destination } = simulators.description;
    const path = generic?.paths[0];
    const token = generic?.auth.token;
    if (!generic || !destination || path === undefined || token === undefined)
      throw new Error(
        `unexpected simulators description ${JSON.stringify(simulators.description)}`,
      );
    const destinationURL = `${destination.url}/items/{id}`;
    const baseline = {
      BENCH_SOURCE_URL: `${generic.url}${path}`,
      BENCH_SOURCE_TOKEN: token,
      BENCH_DESTINATION_URL: destinationURL,
      BENCH_PAGE_SIZE: String(settings.pageSize),
      BENCH_CONCURRENCY: String(settings.concurrency),
    };
    const sides: Side[] = ['runtime', ...settings.baselines.map((c) => `baseline-${c}` as const)];
    const runEnv = new Map<Side, { script: string; env: Record<string, string> }>([
      [
        'runtime',
        {
          script: 'bench/children/sync-runtime.ts',
          env: {
            [RunEnv.Run]: JSON.stringify(runInput(generic.url, path, destinationURL, settings)),
            [RunEnv.RunKind]: 'sync',
            [RunEnv.ResultPath]: join(dir, 'termination-log'),
            [RunEnv.SourceCredentials]: token,
            BENCH_CONCURRENCY: String(settings.concurrency),
          },
        },
      ],
      ...settings.baselines.map(
        (client) =>
          [
            `baseline-${client}`,
            {
              script: 'bench/children/sync-baseline.ts',
              env: { ...baseline, BENCH_CLIENT: client },
            },
          ] as const,
      ),
    ]);
    // Warm the simulators process (JIT, sockets) so the first measured run is not penalised.
    await reset(simulators);
    await runMeasuredChild('bench/children/sync-baseline.ts', {
      ...baseline,
      BENCH_MAX_RECORDS: String(Math.min(records, 2000)),
    });
    const samples = new Map<Side, Sample[]>(sides.map((side) => [side, []]));
    for (let repeat = 0; repeat < repeats; repeat++) {
      // Alternate the order so that no side always runs first (or last) in a round.
      const order = repeat % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const child = runEnv.get(side);
        if (child === undefined) throw new Error(`no child for ${side}`);
        const sample = await measureRun(side, records, child, simulators, settings);
        samples.get(side)?.push(sample);
        process.stderr.write(
          `  ${grouped(records)} records, ${side.padEnd(15)} #${repeat + 1}: ` +
            `${seconds(sample.wallMs)}, peak RSS ${mebibytes(sample.maxRssKiB)}\n`,
        );
      }
    }
    return { records, samples };
  } finally {
    await simulators.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The TRIBUTARY_RUN document of the runtime side. */
function runInput(
  baseURL: string,
  path: string,
  destinationURL: string,
  settings: Settings,
): RunInput {
  return {
    version: RUN_VERSION,
    kind: 'sync',
    attempt: 1,
    dueTime: new Date().toISOString(),
    integration: { namespace: 'bench', name: 'sync', uid: 'bench-sync-uid' },
    source: {
      provider: 'http',
      baseURL,
      credentialsRef: { name: 'generic', key: 'token' },
      http: {
        path,
        recordsPath: 'data',
        pagination: {
          type: 'cursor',
          cursorPath: 'next_cursor',
          cursorParam: 'cursor',
          pageSize: settings.pageSize,
        },
        updatedField: 'updated_at',
        auth: { type: 'bearer' },
      },
    },
    destination: { url: destinationURL, method: 'PUT' },
    // The record contract of the demo: the runtime validates what the baseline does not.
    schema: {
      required: ['id', 'email'],
      properties: { id: { type: 'string' }, email: { type: 'string' } },
    },
    // A rate limit far above what either side reaches, so it does not dominate.
    policy: resolvePolicy(undefined, { rateLimit: { requestsPerSecond: 10000, burst: 10000 } }),
  };
}

/** One measured run of `side` after a reset; checks the destination holds `records` records. */
async function measureRun(
  side: Side,
  records: number,
  { script, env }: { script: string; env: Record<string, string> },
  simulators: SimulatorProcess,
  settings: Settings,
): Promise<Sample> {
  await reset(simulators, settings.sourceLatencyMs);
  const before = simulators.cpuMs();
  const measurement = await runMeasuredChild(script, env);
  const after = simulators.cpuMs();
  const stats = await controlJSON<{
    destination: { recordsStored: number; applied: number; duplicates: number };
  }>(`${simulators.description.destination?.url ?? ''}/__control/stats`);
  const stored = stats.destination.recordsStored;
  if (stored !== records) {
    throw new Error(
      `${side}: the destination holds ${stored} records after the run, expected ${records} ` +
        `(applied ${stats.destination.applied}, duplicates ${stats.destination.duplicates})`,
    );
  }
  if (side === 'runtime') checkRuntimeResult(env[RunEnv.ResultPath] ?? '', records);
  return {
    ...measurement,
    simulatorCpuMs: before === undefined || after === undefined ? undefined : after - before,
  };
}

/** The runtime's own result must say Succeeded with every record written. */
function checkRuntimeResult(path: string, records: number): void {
  const result = JSON.parse(readFileSync(path, 'utf8')) as {
    outcome?: string;
    stats?: { read?: number; written?: number };
  };
  if (result.outcome !== 'Succeeded' || result.stats?.written !== records) {
    throw new Error(
      `runtime: result ${JSON.stringify(result).slice(0, 500)}; expected Succeeded with ` +
        `${records} written`,
    );
  }
}

/**
 * Resets both simulators (destination data and counters, provider counters and logs), then
 * re-arms the source latency, as a remote API's round trip would add to every page.
 */
async function reset(simulators: SimulatorProcess, sourceLatencyMs = 0): Promise<void> {
  const { generic, destination } = simulators.description;
  await controlJSON(`${destination?.url ?? ''}/__control/reset`, {});
  await controlJSON(`${generic?.url ?? ''}/__control/reset`, { keepData: true });
  if (sourceLatencyMs > 0) {
    await controlJSON(`${generic?.url ?? ''}/__control/faults`, [
      { type: 'latency', ms: sourceLatencyMs, method: 'GET' },
    ]);
  }
}

async function controlJSON<T>(url: string, post?: unknown): Promise<T> {
  const res = await fetch(url, {
    method: post === undefined ? 'GET' : 'POST',
    ...(post === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(post) }),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The figures of one side at one size. */
interface Figures {
  perSecond: number;
  cpuMs: number;
  peak: number;
}

/** The results table: one row per side and size, then the ratios against each baseline. */
function render(results: SizeResult[], settings: Settings): string {
  const header = [
    'records',
    'side',
    'runs',
    'wall (median)',
    'min–max',
    'records/s',
    'client CPU',
    'CPU µs/rec',
    'RSS at start',
    'peak RSS',
    'simulators CPU',
  ];
  const rows: string[][] = [];
  const ratios: string[] = [];
  for (const { records, samples } of results) {
    const figures = new Map<Side, Figures>();
    for (const [side, runs] of samples) {
      const walls = runs.map((s) => s.wallMs);
      const wall = median(walls);
      const cpuMs = median(runs.map((s) => s.cpuMs));
      const peak = Math.max(...runs.map((s) => s.maxRssKiB));
      const simCpu = runs.flatMap((s) =>
        s.simulatorCpuMs === undefined ? [] : [s.simulatorCpuMs / s.wallMs],
      );
      figures.set(side, { perSecond: (records * 1000) / wall, cpuMs, peak });
      rows.push([
        grouped(records),
        side,
        String(runs.length),
        seconds(wall),
        `${seconds(Math.min(...walls))}–${seconds(Math.max(...walls))}`,
        grouped((records * 1000) / wall),
        seconds(cpuMs),
        ((cpuMs * 1000) / records).toFixed(0),
        mebibytes(median(runs.map((s) => s.startRssKiB))),
        mebibytes(peak),
        simCpu.length === 0 ? 'n/a' : `${Math.round(median(simCpu) * 100)}% of a core`,
      ]);
    }
    const runtime = figures.get('runtime');
    for (const client of settings.baselines) {
      const baseline = figures.get(`baseline-${client}`);
      if (runtime === undefined || baseline === undefined) continue;
      ratios.push(
        `${grouped(records).padStart(7)} records vs ${client.padEnd(6)}: ` +
          `throughput ${times(runtime.perSecond / baseline.perSecond)}, ` +
          `client CPU per record ${times(runtime.cpuMs / baseline.cpuMs)}, ` +
          `peak RSS ${times(runtime.peak / baseline.peak)}`,
      );
    }
  }
  return [
    table(header, rows, new Set([0, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
    '',
    'ratio runtime / baseline (throughput above 1× = the runtime is faster; CPU and RSS above',
    '1× = the runtime costs more):',
    ...ratios,
    '',
    'wall and client CPU: the measured work only, median of the runs (process start-up and',
    'imports excluded); RSS at start: after imports, before the work; peak RSS: the whole',
    'measured process, max over the runs; simulators CPU: the shared simulators process during',
    'a run (near 100% of a core means the simulators, not the client, set the pace).',
  ].join('\n');
}
