/**
 * `npm run chaos -- --report`: runs the chaos tier with the full counts of issue 14
 * (CHAOS_FULL=1; `--short` for the short form `npm test` runs), then gathers every scenario's
 * figures into one JSON report and prints a short table. The report is scanned for the run's
 * secret sentinel too: it must not leak there either.
 *
 *   npm run chaos -- --report [--short] [--out FILE] [--dir DIR] [-- <vitest filters>]
 *
 * `--dir DIR` keeps the figures in DIR (the sentinel beside it, DIR.sentinel) across runs, so a long report can be
 * gathered in parts — one file or test per run — and each later run adds to it; the report lists
 * every run with its filters and outcome.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  strict: true,
  options: {
    report: { type: 'boolean' },
    short: { type: 'boolean' },
    out: { type: 'string' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true || values.report !== true) {
  console.log(
    'usage: npm run chaos -- --report [--short] [--out FILE] [--dir DIR] [-- <vitest file filters>]',
  );
  process.exit(values.help === true ? 0 : 64);
}

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'tributary-chaos-report-'));
mkdirSync(dir, { recursive: true });
// Beside the figures, not among them: the leak scan reads the report dir.
const sentinel = runSentinel(`${dir.replace(/\/+$/, '')}.sentinel`);
const started = Date.now();
const run = spawnSync('npx', ['vitest', 'run', '--project', 'chaos', ...positionals], {
  stdio: 'inherit',
  env: {
    ...process.env,
    CHAOS_FULL: values.short === true ? '0' : '1',
    CHAOS_REPORT_DIR: dir,
    CHAOS_SENTINEL: sentinel,
  },
});

/** The sentinel of this report: kept in `path`, so every run into one `--dir` shares it. */
function runSentinel(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = `tributary-sentinel-${randomBytes(8).toString('hex')}`;
  writeFileSync(path, value, { mode: 0o600 });
  return value;
}

interface Run {
  filters: string[];
  full: boolean;
  passed: boolean;
  seconds: number;
}
const runsPath = join(dir, 'runs.jsonl');
const thisRun: Run = {
  filters: positionals,
  full: values.short !== true,
  passed: run.status === 0,
  seconds: Math.round((Date.now() - started) / 1000),
};
const earlier = existsSync(runsPath) ? readFileSync(runsPath, 'utf8') : '';
writeFileSync(runsPath, `${earlier}${JSON.stringify(thisRun)}\n`);
const runs = readFileSync(runsPath, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as Run);

interface ScenarioFigures {
  scenario: string;
  full: boolean;
  at: string;
  figures: Record<string, unknown>;
}
const scenarios = readdirSync(dir)
  .filter((file) => file.endsWith('.json') && file !== 'report.json')
  .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as ScenarioFigures)
  .filter((document) => typeof document.figures === 'object');
const report = {
  full: runs.every((r) => r.full),
  passed: runs.every((r) => r.passed),
  seconds: runs.reduce((sum, r) => sum + r.seconds, 0),
  runs,
  scenarios,
};
const text = `${JSON.stringify(report, null, 2)}\n`;
const leaked = text.includes(sentinel);
const out = values.out ?? join(dir, 'report.json');
writeFileSync(out, text);

console.log(`\nchaos report (${report.full ? 'full counts' : 'short form'}), ${report.seconds} s`);
for (const { scenario, figures } of scenarios) {
  const shown = Object.entries(figures)
    .filter(([, value]) => typeof value !== 'string' || value.length < 60)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('  ');
  console.log(`  ${scenario.padEnd(24)} ${shown}`);
}
console.log(`  sentinel in the report: ${leaked ? 'LEAKED' : 'no'}`);
console.log(`report: ${out}`);
process.exit(thisRun.passed && !leaked ? 0 : 1);
