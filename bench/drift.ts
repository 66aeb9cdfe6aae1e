/**
 * `npm run bench -- drift`: the drift check's comparison core against coreutils `sort` + `join`
 * over the same data, in the same run.
 *
 * Data: N records per side (default 1,000,000) as `id TAB fingerprint` TSV files in two
 * different shuffled orders, with D (default 1,000) differences of each kind: ids missing from
 * the destination, extra ids only in the destination, and ids whose fingerprint differs.
 * The HTTP layer is not measured: every contender reads the same two local files.
 *
 * Contenders, each a fresh process timed by GNU `/usr/bin/time` (wall, CPU, peak RSS):
 * - `tributary`: the core as `tributary drift-check` runs it — ExternalSorter per side (spill
 *   threshold `--spill`, default 100,000 entries) then the merge join (`compareSorted`);
 * - the same with V8's heap capped (`--max-old-space-size=64 --max-semi-space-size=1`), as a
 *   pod's memory limit would: by default V8 grows its young generation and heap lazily, so peak
 *   RSS says more about the GC than about the data; capped, it shows the working set;
 * - `tributary, in memory`: the same core with no spill threshold (what bounding memory saves);
 * - `hashed segments`: the alternative design, prototyped here: ids partitioned by hash into
 *   `--segments` files per side, then each segment compared through a Map;
 * - `sort + join`: `LC_ALL=C sort` of each file, then `join -v1`, `join -v2`, and `join` + awk
 *   comparing fingerprints.
 * Every contender must report exactly D / D / D, or the benchmark fails.
 */
import { spawn } from 'node:child_process';
import { hash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineWriter, forEachLine } from '../operator/lib/lines.ts';
import { compareSorted } from '../operator/runtime/drift/compare.ts';
import { ExternalSorter } from '../operator/runtime/drift/spill.ts';

/** One line for `npm run bench` without a name. */
export const summary = 'drift check core vs sort + join: 1M records per side, 0.1% drift';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TIME = '/usr/bin/time';
/** The old-space limit of the capped run: enough for the core's bounded working set, not for N. */
const HEAP_CAP_MIB = 64;
/** Block size of the data files, read and written: large blocks, few system calls. */
const MIB = 1 << 20;

interface Options {
  records: number;
  differences: number;
  spill: number;
  segments: number;
}

interface Counts {
  missing: number;
  unexpected: number;
  mismatched: number;
}

interface Measured {
  name: string;
  /** Wall time of the whole process, start-up included. */
  wallS: number;
  /** Wall time of the work alone (children only: imports and start-up excluded). */
  workS?: number | undefined;
  /** Peak RSS above the RSS after imports (children only). */
  overStartMiB?: number | undefined;
  cpuS: number;
  peakRssMiB: number;
  counts: Counts;
  detail: string;
}

const HELP = `usage: npm run bench -- drift [--records N] [--diff D] [--spill N] [--segments S]
  --records   records per side (default 1000000)
  --diff      differences of each kind (default 1000)
  --spill     entries per side in memory before the core spills a sorted run (default 100000)
  --segments  files per side of the hashed-segments prototype (default 64)`;

/** Runs the benchmark; throws when a contender's counts are not exact. */
export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log(HELP);
    return;
  }
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed to measure peak RSS`);
  const options = parse(args);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-drift-'));
  try {
    const started = performance.now();
    const expected = generate(dir, options);
    const generatedS = (performance.now() - started) / 1000;
    console.log(
      `drift: ${options.records.toLocaleString('en')} records per side, ` +
        `${options.differences} missing / unexpected / mismatched; data written in ` +
        `${generatedS.toFixed(1)} s (not measured)`,
    );
    const results = [
      await measureChild('tributary (external sort)', ['core', dir, String(options.spill)]),
      await measureChild(
        `tributary, V8 heap capped (old ${String(HEAP_CAP_MIB)} MiB, semi 1 MiB)`,
        ['core', dir, String(options.spill)],
        [`--max-old-space-size=${String(HEAP_CAP_MIB)}`, '--max-semi-space-size=1'],
      ),
      await measureChild('tributary, in memory', ['core', dir, 'Infinity']),
      await measureChild('hashed segments', ['segments', dir, String(options.segments)]),
      await measureBaseline(dir),
    ];
    report(results, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parse(args: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const index = args.indexOf(name);
    if (index < 0) return fallback;
    const parsed = Number(args[index + 1]);
    if (!Number.isSafeInteger(parsed) || parsed < 1)
      throw new Error(`${name} needs a positive integer`);
    return parsed;
  };
  const options = {
    records: value('--records', 1_000_000),
    differences: value('--diff', 1000),
    spill: value('--spill', 100_000),
    segments: value('--segments', 64),
  };
  if (options.differences * 2 > options.records)
    throw new Error('--diff must be at most half of --records');
  return options;
}

const recordId = (index: number) => `rec_${String(index).padStart(9, '0')}`;
const fingerprintOf = (text: string) => hash('sha256', text, 'base64url').slice(0, 22);

/** Writes source.tsv and destination.tsv; returns the differences they hold. */
function generate(dir: string, { records, differences }: Options): Counts {
  const stride = Math.floor(records / differences);
  const missing = (index: number) => index % stride === 0 && index / stride < differences;
  const mismatched = (index: number) =>
    index % stride === stride >> 1 && Math.floor(index / stride) < differences;
  const source = new LineWriter(join(dir, 'source.tsv'), { blockChars: MIB });
  const destination = new LineWriter(join(dir, 'destination.tsv'), { blockChars: MIB });
  for (const index of shuffled(records, 7919)) {
    source.write(`${recordId(index)}\t${fingerprintOf(`${index}:1`)}`);
  }
  for (const index of shuffled(records, 104_729)) {
    if (missing(index)) continue;
    destination.write(
      `${recordId(index)}\t${fingerprintOf(`${index}:${mismatched(index) ? 2 : 1}`)}`,
    );
    // An extra destination record right after a regular one, so extras are interleaved.
    if (index % stride === 1 && Math.floor(index / stride) < differences) {
      destination.write(`${recordId(index)}x\t${fingerprintOf(`extra:${index}`)}`);
    }
  }
  source.close();
  destination.close();
  return { missing: differences, unexpected: differences, mismatched: differences };
}

/** 0..n-1 in the order i·step mod n (a permutation when step and n are coprime). */
function* shuffled(n: number, step: number): Generator<number> {
  const coprime = gcd(step, n) === 1 ? step : 1;
  for (let i = 0; i < n; i++) yield (i * coprime) % n;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Splits `id TAB fingerprint`. */
function split(text: string): { id: string; hash: string } {
  const tab = text.indexOf('\t');
  return { id: text.slice(0, tab), hash: text.slice(tab + 1) };
}

/** Runs `node bench/drift.ts <args>` under GNU time; the child prints its counts as JSON. */
async function measureChild(
  name: string,
  args: string[],
  nodeFlags: string[] = [],
): Promise<Measured> {
  const { stdout, time } = await timed([process.execPath, ...nodeFlags, 'bench/drift.ts', ...args]);
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    counts: Counts;
    detail: string;
    workS: number;
    overStartMiB: number;
  };
  const { counts, detail, workS, overStartMiB } = result;
  return { name, ...time, counts, detail, workS, overStartMiB };
}

/** `sort` both files, then three `join`s, under one GNU time (peak RSS: the largest step). */
async function measureBaseline(dir: string): Promise<Measured> {
  const script = [
    'set -eu',
    'export LC_ALL=C',
    "sort -t '\t' -k1,1 -o source.sorted source.tsv",
    "sort -t '\t' -k1,1 -o destination.sorted destination.tsv",
    "m=$(join -t '\t' -v1 source.sorted destination.sorted | wc -l)",
    "u=$(join -t '\t' -v2 source.sorted destination.sorted | wc -l)",
    "x=$(join -t '\t' source.sorted destination.sorted | awk -F '\t' '$2 != $3' | wc -l)",
    'echo "{\\"missing\\":$m,\\"unexpected\\":$u,\\"mismatched\\":$x}"',
  ].join('\n');
  const { stdout, time } = await timed(['bash', '-c', script], dir);
  const counts = JSON.parse(stdout.trim()) as Counts;
  return { name: 'sort + join (coreutils)', ...time, counts, detail: 'LC_ALL=C, sort defaults' };
}

/** Runs `command` under GNU time; its stdout and wall/CPU/peak RSS. */
async function timed(
  command: string[],
  cwd = ROOT,
): Promise<{ stdout: string; time: Pick<Measured, 'wallS' | 'cpuS' | 'peakRssMiB'> }> {
  const timeFile = join(tmpdir(), `tributary-bench-time-${String(process.pid)}`);
  const child = spawn(TIME, ['-f', '%e %U %S %M', '-o', timeFile, ...command], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const fields = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)?.split(' ') ?? [];
  rmSync(timeFile, { force: true });
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${String(code)}`);
  const [wall, user, system, rss] = fields.map(Number);
  return {
    stdout,
    time: {
      wallS: wall ?? NaN,
      cpuS: (user ?? NaN) + (system ?? NaN),
      peakRssMiB: (rss ?? NaN) / 1024,
    },
  };
}

/** Prints the table and the ratios; throws when a contender is not exact. */
function report(results: Measured[], expected: Counts): void {
  const rows = results.map((r) => [
    r.name,
    r.wallS.toFixed(2),
    r.workS === undefined ? '-' : r.workS.toFixed(2),
    r.cpuS.toFixed(2),
    r.peakRssMiB.toFixed(0),
    r.overStartMiB === undefined ? '-' : r.overStartMiB.toFixed(0),
    `${r.counts.missing}/${r.counts.unexpected}/${r.counts.mismatched}`,
    exact(r.counts, expected) ? 'yes' : 'NO',
    r.detail,
  ]);
  const header = [
    'contender',
    'wall s',
    'work s',
    'cpu s',
    'peak RSS MiB',
    'over start',
    'miss/unexp/mism',
    'exact',
    '',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
  console.log(
    'wall, cpu, peak RSS: GNU time of the whole process (for Node: start-up and TypeScript ' +
      'loading included); work, over start: inside the child, after its imports',
  );
  const core = results[0];
  const baseline = results.at(-1);
  if (core && baseline) {
    const work =
      core.workS === undefined ? '' : `, work-only ${(core.workS / baseline.wallS).toFixed(2)}x`;
    console.log(
      `ratio tributary / sort+join: time ${(core.wallS / baseline.wallS).toFixed(2)}x${work}; ` +
        `cpu ${(core.cpuS / baseline.cpuS).toFixed(2)}x; ` +
        `peak RSS ${(core.peakRssMiB / baseline.peakRssMiB).toFixed(2)}x`,
    );
  }
  const wrong = results.filter((r) => !exact(r.counts, expected)).map((r) => r.name);
  if (wrong.length > 0) throw new Error(`inexact counts from: ${wrong.join(', ')}`);
}

function exact(counts: Counts, expected: Counts): boolean {
  return (
    counts.missing === expected.missing &&
    counts.unexpected === expected.unexpected &&
    counts.mismatched === expected.mismatched
  );
}

/** Child: the Tributary core (external sort + merge join) over the two files. */
function childCore(dir: string, spill: number): { counts: Counts; detail: string } {
  const work = mkdtempSync(join(tmpdir(), 'tributary-bench-spill-'));
  try {
    const sort = (name: string) => {
      const sorter = new ExternalSorter({
        dir: work,
        name,
        maxRecords: spill,
        maxChars: spill * 64,
      });
      forEachLine(
        join(dir, `${name}.tsv`),
        (line) => {
          sorter.add(split(line));
        },
        MIB,
      );
      return sorter;
    };
    const source = sort('source');
    const destination = sort('destination');
    const streams = [source.sorted(), destination.sorted()] as const;
    const tally = compareSorted(...streams);
    for (const stream of streams) stream.close();
    const files = source.filesWritten + destination.filesWritten;
    const detail = Number.isFinite(spill)
      ? `spill ${String(spill)} entries, ${String(files)} run files`
      : 'no spill';
    return { counts: tally, detail };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Child: the hashed-segments alternative — partition by id hash, compare segment by segment. */
function childSegments(dir: string, segments: number): { counts: Counts; detail: string } {
  const work = mkdtempSync(join(tmpdir(), 'tributary-bench-segments-'));
  try {
    const partition = (name: string) => {
      const writers = Array.from(
        { length: segments },
        (_, s) => new LineWriter(join(work, `${name}-${String(s)}`)),
      );
      forEachLine(
        join(dir, `${name}.tsv`),
        (line) => {
          writers[fnv1a(line.slice(0, line.indexOf('\t'))) % segments]?.write(line);
        },
        MIB,
      );
      for (const writer of writers) writer.close();
    };
    partition('source');
    partition('destination');
    const counts: Counts = { missing: 0, unexpected: 0, mismatched: 0 };
    for (let s = 0; s < segments; s++) {
      const source = new Map<string, string>();
      forEachLine(
        join(work, `source-${String(s)}`),
        (line) => {
          const { id, hash: h } = split(line);
          source.set(id, h);
        },
        MIB,
      );
      forEachLine(
        join(work, `destination-${String(s)}`),
        (line) => {
          const { id, hash: h } = split(line);
          const expected = source.get(id);
          if (expected === undefined) counts.unexpected++;
          else {
            if (expected !== h) counts.mismatched++;
            source.delete(id);
          }
        },
        MIB,
      );
      counts.missing += source.size;
    }
    return { counts, detail: `${String(segments)} segments per side` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Runs a child's work and prints its counts with its own measurement as one JSON line. */
function childMain(work: () => { counts: Counts; detail: string }): void {
  const startRssKiB = process.memoryUsage.rss() / 1024;
  const started = performance.now();
  const result = work();
  const workS = (performance.now() - started) / 1000;
  const overStartMiB = (process.resourceUsage().maxRSS - startRssKiB) / 1024;
  console.log(JSON.stringify({ ...result, workS, overStartMiB }));
}

if (import.meta.main) {
  const [mode, dir = '', parameter = ''] = process.argv.slice(2);
  if (mode === 'core') childMain(() => childCore(dir, Number(parameter)));
  else if (mode === 'segments') childMain(() => childSegments(dir, Number(parameter)));
  else await run(process.argv.slice(2));
}
