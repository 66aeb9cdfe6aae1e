/**
 * Runs the operator out of process, as it runs in a cluster: `node operator/cli.ts operator`
 * with a kubeconfig holding the token of its own ServiceAccount, bound to exactly the RBAC of
 * manifests/install.yaml. Never as admin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_NAMESPACE } from '../../manifests/src/app.ts';
import type { ClusterClient } from './cluster.ts';
import { PROJECT_IMAGE, ROOT } from './images.ts';
import { freePort } from './processes.ts';

/**
 * Installs what ships: `kubectl apply --server-side -f manifests/` (namespace, CRDs,
 * ServiceAccount, RBAC, Deployment, ...), then waits for the CRDs. Idempotent. The Deployment
 * creates no pods here (no deployment controller runs); tests start the operator themselves,
 * with the token of the ServiceAccount this created.
 */
export async function installOperator(client: ClusterClient): Promise<void> {
  const steps = [
    ['apply', '--server-side', '-f', join(ROOT, 'manifests')],
    ['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')],
  ];
  for (const args of steps) {
    const result = await client.kubectl(args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  }
}

/** Options of {@link OperatorProcess.start}. */
export interface OperatorProcessOptions {
  /** Extra environment (fault injection, log level). */
  env?: Record<string, string>;
  /** Watch only this namespace. Default: all. */
  namespace?: string;
  /** Run with leader election. Default true. */
  leaderElection?: boolean;
  /** Identity in the Lease. */
  identity?: string;
  /**
   * The ServiceAccount to run as, in the namespace that also holds its Lease (named after it).
   * Default `tributary-operator` in `tributary-system`: what manifests/install.yaml creates.
   */
  serviceAccount?: { namespace: string; name: string };
}

/** One operator process. */
export class OperatorProcess {
  readonly logPath: string;
  readonly metricsPort: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<unknown>;

  private constructor(child: ChildProcess, logPath: string, metricsPort: number) {
    this.#child = child;
    this.logPath = logPath;
    this.metricsPort = metricsPort;
    this.#exited = once(child, 'exit');
  }

  /** Starts an operator authenticated as its ServiceAccount. */
  static async start(
    client: ClusterClient,
    options: OperatorProcessOptions = {},
  ): Promise<OperatorProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-operator-'));
    const account = options.serviceAccount ?? {
      namespace: OPERATOR_NAMESPACE,
      name: 'tributary-operator',
    };
    const token = await client.serviceAccountToken(account.namespace, account.name);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, client.kubeconfigYaml(token, 'tributary-operator'), { mode: 0o600 });
    const metricsPort = await freePort();
    const logPath = join(dir, 'operator.log');
    const fd = openSync(logPath, 'a');
    const child = spawn(process.execPath, [join(ROOT, 'operator', 'cli.ts'), 'operator'], {
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: kubeconfig,
        POD_NAMESPACE: account.namespace,
        LEASE_NAME: account.name,
        METRICS_PORT: String(metricsPort),
        TRIBUTARY_IMAGE: `${PROJECT_IMAGE}:test`,
        LOG_LEVEL: 'debug',
        LEADER_ELECT: String(options.leaderElection ?? true),
        ...(options.namespace ? { WATCH_NAMESPACE: options.namespace } : {}),
        ...(options.identity ? { POD_NAME: options.identity } : {}),
        ...options.env,
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const operator = new OperatorProcess(child, logPath, metricsPort);
    process.once('exit', () => child.kill('SIGKILL'));
    return operator;
  }

  /** Whether the process still runs. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The process's exit, once it happened. */
  exited(): Promise<unknown> {
    return this.#exited;
  }

  /** Graceful stop (SIGTERM: drain, release the Lease). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGTERM');
    await this.#exited;
  }

  /** Crash (SIGKILL: nothing released). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  /** The JSON log lines written so far. */
  logLines(): Record<string, unknown>[] {
    return readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** GET an endpoint of the health/metrics server; undefined when it does not answer. */
  async get(path: string): Promise<{ status: number; body: string } | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.metricsPort}${path}`);
      return { status: response.status, body: await response.text() };
    } catch {
      return undefined;
    }
  }
}
