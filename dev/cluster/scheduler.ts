/**
 * kube-scheduler for a local cluster (`ClusterOptions.scheduler`): the real one, built with
 * the API server, so pods without a `nodeName` are placed the way a cluster places them (on kwok's
 * fake Nodes, for the scale benchmark). One replica, so leader election is off; its secure port
 * serves only the health checks and `/metrics` (serving.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { Daemon, waitFor } from './processes.ts';
import { securePort } from './serving.ts';

/** A running kube-scheduler. */
export interface Scheduler {
  /** `https://127.0.0.1:<port>/metrics` (self-signed; see {@link Scheduler.metrics}). */
  readonly metricsUrl: string;
  /** Its process id (e.g. for `/proc/<pid>/status`); undefined once stopped. */
  readonly pid: number | undefined;
  /** GET `/metrics`: the Prometheus text. */
  metrics(): Promise<string>;
}

/** What {@link startScheduler} needs. */
export interface SchedulerStart {
  binary: string;
  /** The cluster dir: the scheduler's config, certificate and log go under it. */
  dir: string;
  /** A kubeconfig as `system:kube-scheduler`. */
  kubeconfigPath: string;
  /** Where the daemon is pushed once spawned (the cluster stops it). */
  daemons: Daemon[];
}

/** Starts kube-scheduler; resolves once its `/readyz` answers ok (its informers have synced). */
export async function startScheduler(start: SchedulerStart): Promise<Scheduler> {
  requireBinary(start.binary);
  const home = join(start.dir, 'kube-scheduler');
  mkdirSync(home, { recursive: true });
  const config = join(home, 'config.yaml');
  // A config file, since the flags --kubeconfig and --leader-elect are deprecated.
  writeFileSync(
    config,
    [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      'clientConnection:',
      `  kubeconfig: ${JSON.stringify(start.kubeconfigPath)}`,
      'leaderElection:',
      '  leaderElect: false',
      '',
    ].join('\n'),
  );
  const port = await securePort(join(home, 'certs'), 'kube-scheduler');
  const daemon = Daemon.start(
    'kube-scheduler',
    start.binary,
    [`--config=${config}`, ...port.args],
    join(start.dir, 'logs', 'kube-scheduler.log'),
  );
  start.daemons.push(daemon);
  await waitFor(
    'kube-scheduler /readyz',
    async () => {
      daemon.assertRunning();
      return (await port.get('/readyz')).status === 200 ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
  return {
    metricsUrl: `${port.url}/metrics`,
    get pid() {
      return daemon.running ? daemon.pid : undefined;
    },
    metrics: async () => (await port.get('/metrics')).body,
  };
}
