/**
 * `node dev/cluster/controller-cost.ts [rounds] [windowSeconds]`: what the workload controllers
 * cost the test control plane. Starts clusters alternately with the core controllers only and
 * with {@link CONTROLLERS} (side by side, so machine load hits both alike) and prints, per run,
 * the start time (startCluster until the node is Ready and the default ServiceAccount exists)
 * and kube-controller-manager's CPU (utime + stime from /proc) and RSS over an idle window
 * after a settle time. Linux only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTROLLERS, CORE_CONTROLLERS, startCluster } from './cluster.ts';

const rounds = Number(process.argv[2] ?? 3);
const windowSeconds = Number(process.argv[3] ?? 60);
const SETTLE_MS = 10_000;
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** The pid of the kube-controller-manager whose command line names `dir`. */
function controllerManagerPid(dir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('kube-controller-manager') && cmdline.includes(dir))
        return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  throw new Error(`no kube-controller-manager for ${dir}`);
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (in parentheses): state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

interface Sample {
  controllers: 'core' | 'core+workload';
  startSeconds: number;
  cpuPercent: number;
  rssMiB: number;
}

async function measure(controllers: readonly string[], label: Sample['controllers']) {
  const started = Date.now();
  const cluster = await startCluster({ controllers });
  const startSeconds = (Date.now() - started) / 1000;
  try {
    const pid = controllerManagerPid(cluster.info.dir);
    await sleep(SETTLE_MS);
    const before = cpuSeconds(pid);
    await sleep(windowSeconds * 1000);
    const cpuPercent = ((cpuSeconds(pid) - before) / windowSeconds) * 100;
    return { controllers: label, startSeconds, cpuPercent, rssMiB: rssMiB(pid) };
  } finally {
    await cluster.stop();
  }
}

const samples: Sample[] = [];
for (let round = 0; round < rounds; round++) {
  for (const [controllers, label] of [
    [CORE_CONTROLLERS, 'core'],
    [CONTROLLERS, 'core+workload'],
  ] as const) {
    const sample = await measure(controllers, label);
    samples.push(sample);
    console.log(JSON.stringify(sample));
  }
}
for (const label of ['core', 'core+workload'] as const) {
  const mine = samples.filter((s) => s.controllers === label);
  const mean = (pick: (s: Sample) => number) =>
    (mine.reduce((sum, s) => sum + pick(s), 0) / mine.length).toFixed(2);
  console.log(
    `${label}: start ${mean((s) => s.startSeconds)} s, controller manager CPU ` +
      `${mean((s) => s.cpuPercent)} % of a core, RSS ${mean((s) => s.rssMiB)} MiB (mean of ${mine.length})`,
  );
}
