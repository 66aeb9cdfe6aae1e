/**
 * Child processes of a benchmark: the simulators (a long-lived process of their own, so the
 * measured process's CPU and RSS are only the client's) and the measured runs (one fresh process
 * per run, which reports its own measurement as the last line of its stdout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a measured child prints (as JSON) on the last line of its stdout. */
export interface ChildMeasurement {
  /** Wall time of the measured work, in ms (process start-up and imports excluded). */
  wallMs: number;
  /** User + system CPU time of the measured work, in ms. */
  cpuMs: number;
  /** Peak resident set size of the whole process life, in KiB (`resourceUsage().maxRSS`). */
  maxRssKiB: number;
  /** Resident set size after imports, before the work, in KiB. */
  startRssKiB: number;
  /** Anything else the child wants to report (counts, outcome). */
  detail?: Record<string, unknown>;
}

/** Measures `work` in this process and prints the {@link ChildMeasurement} line. */
export async function measureAndReport(
  work: () => Promise<Record<string, unknown> | undefined>,
): Promise<void> {
  const startRssKiB = Math.round(process.memoryUsage.rss() / 1024);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const detail = await work();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const measurement: ChildMeasurement = {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
    startRssKiB,
    ...(detail === undefined ? {} : { detail }),
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

/** Runs `node <script>` from the repository root with `env` added; resolves to its measurement. */
export async function runMeasuredChild(
  script: string,
  env: Record<string, string>,
): Promise<ChildMeasurement> {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await exited(child);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0) {
    throw new Error(`${script} exited with ${String(code)}\n${tail(stderr || stdout)}`.trimEnd());
  }
  try {
    return JSON.parse(last) as ChildMeasurement;
  } catch {
    throw new Error(`${script} printed no measurement line; stdout ends with:\n${tail(stdout)}`);
  }
}

function tail(text: string): string {
  return text.split('\n').slice(-20).join('\n');
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      resolve(signal === null ? code : 128);
    });
  });
}

/** The simulators' process: its description line (URLs, credentials) and how to stop it. */
export interface SimulatorProcess {
  pid: number;
  description: SimulatorsLine;
  /** User + system CPU time of the process so far, in ms; undefined where /proc is missing. */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

/** The JSON line `dev/simulators/cli.ts` prints. */
export interface SimulatorsLine {
  generic?: { url: string; paths: string[]; auth: { type: string; token?: string } };
  destination?: { url: string; token?: string };
  [name: string]: unknown;
}

/** Starts `node dev/simulators/cli.ts ...flags` and waits for its description line. */
export async function startSimulatorProcess(flags: string[]): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, ['dev/simulators/cli.ts', ...flags], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('error', reject);
    child.once('exit', (code) => {
      reject(new Error(`the simulators exited with ${String(code)} before starting\n${stderr}`));
    });
  });
  lines.close();
  child.stdout.resume();
  const pid = child.pid;
  if (pid === undefined) throw new Error('the simulators process has no pid');
  const ticks = clockTicks();
  return {
    pid,
    description: JSON.parse(first) as SimulatorsLine,
    cpuMs: () => processCpuMs(pid, ticks),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      child.kill('SIGTERM');
      await done;
    },
  };
}

function clockTicks(): number {
  // _SC_CLK_TCK is 100 on every mainstream Linux build.
  return 100;
}

/** utime + stime of `pid` from /proc, in ms; undefined where /proc is missing. */
export function processCpuMs(pid: number, ticksPerSecond = clockTicks()): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), which ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}
