/**
 * Kubernetes' own CronJob controller as a process of its own (`ClusterOptions.cronJobController`):
 * a second kube-controller-manager running only `cronjob-controller`, the peer the scale benchmark
 * measures Tributary against. It has its own client budget (`--kube-api-qps`/`--kube-api-burst`),
 * worker count (`--concurrent-cron-job-syncs`), identity (the controller runs as the ServiceAccount
 * kube-system/cronjob-controller, `--use-service-account-credentials`) and secure port with
 * `/metrics` open; leader election is off, as in the main controller manager, which then leaves
 * CronJobs alone (cluster.ts drops `cronjob-controller` from its list).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.ts';
import { Daemon, waitFor } from './processes.ts';
import { securePort } from './serving.ts';

/** The CronJob controller's budget. kube-controller-manager's defaults: 20, 30, 5. */
export interface CronJobControllerOptions {
  /** Client requests per second (`--kube-api-qps`). */
  qps: number;
  /** Client burst, in requests (`--kube-api-burst`). */
  burst: number;
  /** CronJobs synced at once (`--concurrent-cron-job-syncs`). */
  workers: number;
}

/** A running CronJob-only kube-controller-manager. */
export interface CronJobController {
  /**
   * `https://127.0.0.1:<port>/metrics`, e.g. `cronjob_controller_job_creation_skew_duration_seconds`
   * (self-signed: use {@link CronJobController.metrics}, or its `certPath` as the CA).
   */
  readonly metricsUrl: string;
  /** Its serving certificate with its CA (PEM), to verify {@link CronJobController.metricsUrl}. */
  readonly certPath: string;
  /** The kube-controller-manager's process id (for `/proc/<pid>/status`); undefined once stopped. */
  readonly pid: number | undefined;
  /** GET `/metrics`: the Prometheus text. */
  metrics(): Promise<string>;
  /**
   * Stops the process (SIGTERM) and starts it again with the same flags; resolves once its
   * `/healthz` answers ok (a cold start with the objects already there, for the benchmark).
   */
  restart(): Promise<void>;
}

/** What {@link startCronJobController} needs. */
export interface CronJobControllerStart extends CronJobControllerOptions {
  /** kube-controller-manager. */
  binary: string;
  /** The cluster dir: its certificate and log go under it. */
  dir: string;
  /** A kubeconfig as `system:kube-controller-manager`. */
  kubeconfigPath: string;
  /** Where the daemon is pushed once spawned (the cluster stops it). */
  daemons: Daemon[];
}

/** Starts the controller manager; resolves once its `/healthz` answers ok. */
export async function startCronJobController(
  start: CronJobControllerStart,
): Promise<CronJobController> {
  requireBinary(start.binary);
  const certDir = join(start.dir, 'cronjob-controller-manager', 'certs');
  mkdirSync(certDir, { recursive: true });
  const port = await securePort(certDir, 'kube-controller-manager');
  const daemon = Daemon.start(
    'cronjob-controller-manager',
    start.binary,
    [
      `--kubeconfig=${start.kubeconfigPath}`,
      '--leader-elect=false',
      '--controllers=cronjob-controller',
      '--use-service-account-credentials=true',
      `--kube-api-qps=${start.qps}`,
      `--kube-api-burst=${start.burst}`,
      `--concurrent-cron-job-syncs=${start.workers}`,
      ...port.args,
    ],
    join(start.dir, 'logs', 'cronjob-controller-manager.log'),
  );
  start.daemons.push(daemon);
  const healthy = () =>
    waitFor(
      'the CronJob controller manager /healthz',
      async () => {
        daemon.assertRunning();
        return (await port.get('/healthz')).status === 200 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
  await healthy();
  return {
    metricsUrl: `${port.url}/metrics`,
    certPath: join(certDir, 'kube-controller-manager.crt'),
    get pid() {
      return daemon.running ? daemon.pid : undefined;
    },
    metrics: async () => (await port.get('/metrics')).body,
    restart: async () => {
      await daemon.restart();
      await healthy();
    },
  };
}
