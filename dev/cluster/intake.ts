/**
 * Runs the webhook intake out of process, as it runs in a cluster: `node operator/cli.ts intake`
 * with a kubeconfig holding the token of its own ServiceAccount (`tributary-intake`, bound to
 * exactly the RBAC of manifests/install.yaml), its own data directory (the SQLite inbox) or a
 * NATS server. Never as admin. A restart keeps the ports and the data directory, as a pod
 * restarted on its volume does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_NAMESPACE } from '../../manifests/src/app.ts';
import type { ClusterClient } from './cluster.ts';
import { ROOT } from './images.ts';
import { freePort, waitFor } from './processes.ts';

/** Options of {@link IntakeProcess.start}. */
export interface IntakeProcessOptions {
  /** `sqlite` (default; a data directory of its own) or `jetstream` (needs `natsURL`). */
  store?: 'sqlite' | 'jetstream';
  natsURL?: string;
  /** The JetStream stream. Default TRIBUTARY_WEBHOOKS. */
  natsStream?: string;
  /** Extra environment (TRIBUTARY_FAULT_INJECTION, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Largest body accepted. Default the intake's. */
  maxBodyBytes?: number;
}

/** One intake process (restartable on the same ports and data). */
export class IntakeProcess {
  readonly dir: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly #kubeconfig: string;
  readonly #options: IntakeProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> = Promise.resolve();
  #reaping = false;

  private constructor(
    dir: string,
    kubeconfig: string,
    ports: [number, number],
    options: IntakeProcessOptions,
  ) {
    this.dir = dir;
    this.#kubeconfig = kubeconfig;
    [this.port, this.metricsPort] = ports;
    this.#options = options;
  }

  /** Starts an intake authenticated as its ServiceAccount and waits until it is ready. */
  static async start(
    client: ClusterClient,
    options: IntakeProcessOptions = {},
  ): Promise<IntakeProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-intake-'));
    const token = await client.serviceAccountToken(OPERATOR_NAMESPACE, 'tributary-intake');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, client.kubeconfigYaml(token, 'tributary-intake'), { mode: 0o600 });
    const intake = new IntakeProcess(
      dir,
      kubeconfig,
      [await freePort(), await freePort()],
      options,
    );
    await intake.restart();
    return intake;
  }

  /** The deliveries URL of an Integration. */
  hookURL(namespace: string, name: string): string {
    return `http://127.0.0.1:${this.port}/hooks/${namespace}/${name}`;
  }

  /** The base URL of the health port (what the operator polls). */
  get statsURL(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  /**
   * (Re)starts the process on the same ports and data, with `env` on top; waits for /readyz
   * (or, with `ready: false`, only for the health port to answer).
   */
  async restart(env: Record<string, string> = {}, wait: { ready?: boolean } = {}): Promise<void> {
    if (this.running) throw new Error('the intake is running');
    const { store = 'sqlite', natsURL, natsStream, maxBodyBytes } = this.#options;
    const fd = openSync(join(this.dir, 'intake.log'), 'a');
    const child = spawn(process.execPath, [join(ROOT, 'operator', 'cli.ts'), 'intake'], {
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: this.#kubeconfig,
        INTAKE_PORT: String(this.port),
        METRICS_PORT: String(this.metricsPort),
        INTAKE_STORE: store,
        INTAKE_DATA_DIR: this.dir,
        LOG_LEVEL: 'debug',
        ...(natsURL === undefined ? {} : { NATS_URL: natsURL }),
        ...(natsStream === undefined ? {} : { NATS_STREAM: natsStream }),
        ...(maxBodyBytes === undefined ? {} : { INTAKE_MAX_BODY_BYTES: String(maxBodyBytes) }),
        ...this.#options.env,
        ...env,
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.#child = child;
    this.#exited = once(child, 'exit');
    if (!this.#reaping) {
      // One listener per intake, whatever the restarts: the test process never leaves one behind.
      this.#reaping = true;
      process.once('exit', () => this.#child?.kill('SIGKILL'));
    }
    await waitFor('the intake to be ready', async () => {
      if (!this.running) throw new Error(`the intake exited: ${this.log().slice(-2000)}`);
      const answer = await this.get('/readyz');
      if (wait.ready === false) return answer === undefined ? undefined : true;
      return answer?.status === 200 ? true : undefined;
    });
  }

  /** Whether the process runs. */
  get running(): boolean {
    return (
      this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
    );
  }

  /** Resolves when the process has exited. */
  exited(): Promise<unknown> {
    return this.#exited;
  }

  /** Graceful stop (SIGTERM: answers in flight finish, the store closes). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.#child?.kill('SIGTERM');
    await this.#exited;
  }

  /** Crash (SIGKILL). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  /** Everything it logged so far. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'intake.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** GET on the health port; undefined when it does not answer. */
  async get(path: string): Promise<{ status: number; body: string } | undefined> {
    try {
      const response = await fetch(`${this.statsURL}${path}`);
      return { status: response.status, body: await response.text() };
    } catch {
      return undefined;
    }
  }
}
