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
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { OPERATOR_NAMESPACE } from '../../manifests/src/app.ts';
import type { ClusterClient } from './cluster.ts';
import { PROJECT_IMAGE, ROOT } from './images.ts';
import { freePort, waitFor } from './processes.ts';

/** The installed operator Deployment (and ServiceAccount, Lease) of manifests/install.yaml. */
export const OPERATOR_DEPLOYMENT = { namespace: OPERATOR_NAMESPACE, name: 'tributary-operator' };

/** The installed intake StatefulSet (and ServiceAccount, Services) of manifests/install.yaml. */
export const INTAKE_STATEFULSET = { namespace: OPERATOR_NAMESPACE, name: 'tributary-intake' };

/** Options of {@link installOperator}. */
export interface InstallOptions {
  /**
   * Run the installed Deployment: its pods run the operator on the process node, as in a
   * cluster, and this waits for `kubectl rollout status`. Default false: the Deployment is
   * applied with 0 replicas (its pods, if any, are gone before this returns), so tests run the
   * operator themselves with {@link OperatorProcess} and no installed replica competes for the
   * Lease; the intake StatefulSet gets 0 replicas too (tests run the intakes they need).
   */
  inCluster?: boolean;
}

/**
 * Installs what ships: manifests/install.yaml (namespace, CRDs, ServiceAccount, RBAC,
 * Deployment, ...) with `kubectl apply --server-side` (field manager `kubectl`, taking over
 * `replicas` from another applier such as a rendered chart), then waits for the CRDs and for
 * the Deployment to be rolled out or scaled to zero. Idempotent.
 */
export async function installOperator(
  client: ClusterClient,
  options: InstallOptions = {},
): Promise<void> {
  const manifest = installManifest(options.inCluster === true ? undefined : 0);
  const apply = ['apply', '--server-side', '--force-conflicts', '-f', '-'];
  await kubectlOrThrow(client, apply, manifest);
  await waitForCrds(client);
  if (options.inCluster === true) {
    const { namespace, name } = OPERATOR_DEPLOYMENT;
    const rollout = ['rollout', 'status', '-n', namespace, `deployment/${name}`, '--timeout=180s'];
    await kubectlOrThrow(client, rollout);
  } else {
    await waitForOperatorPods(client, 0);
  }
}

/** Waits until every CRD of crds/ is Established. */
async function waitForCrds(client: ClusterClient): Promise<void> {
  const crds = ['wait', '--for=condition=Established', '--timeout=60s', '-f', join(ROOT, 'crds')];
  await kubectlOrThrow(client, crds);
}

/** Applies crds/ alone (server-side) and waits until every CRD is Established. */
export async function applyCrds(client: ClusterClient): Promise<void> {
  await kubectlOrThrow(client, ['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  await waitForCrds(client);
}

/**
 * manifests/install.yaml, with the replicas of the operator Deployment and of the intake
 * StatefulSet set when `replicas` is given.
 */
export function installManifest(replicas?: number): string {
  const text = readFileSync(join(ROOT, 'manifests', 'install.yaml'), 'utf8');
  if (replicas === undefined) return text;
  // Read as the API server's YAML reader does (YAML 1.1), as it is written.
  return parseAllDocuments(text, { version: '1.1' })
    .map((document) => {
      const object = document.toJS() as KubeObject | null;
      const meta = object?.metadata;
      const is = (kind: string, workload: { namespace: string; name: string }) =>
        object?.kind === kind &&
        meta?.name === workload.name &&
        meta.namespace === workload.namespace;
      if (
        object &&
        (is('Deployment', OPERATOR_DEPLOYMENT) || is('StatefulSet', INTAKE_STATEFULSET))
      )
        object.spec = { ...object.spec, replicas };
      return JSON.stringify(object);
    })
    .join('\n---\n');
}

interface KubeObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

/** The installed Deployment's pods (terminating ones included), once there are `count`. */
export async function waitForOperatorPods(client: ClusterClient, count: number): Promise<V1Pod[]> {
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  const { namespace, name } = OPERATOR_DEPLOYMENT;
  const labelSelector = await operatorPodSelector(client);
  return waitFor(
    `${count} pods of deployment ${namespace}/${name}`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector });
      return pods.items.length === count ? pods.items : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
}

/** The label selector of the installed Deployment's pods, as `kubectl get -l` takes it. */
export async function operatorPodSelector(client: ClusterClient): Promise<string> {
  const apps = client.kubeConfig.makeApiClient(AppsV1Api);
  const deployment = await apps.readNamespacedDeployment(OPERATOR_DEPLOYMENT);
  const labels = deployment.spec?.selector.matchLabels ?? {};
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

async function kubectlOrThrow(client: ClusterClient, args: string[], input?: string) {
  const result = await client.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
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
  /**
   * The API server URL in its kubeconfig, e.g. a fault proxy's `https://127.0.0.1:<port>` in
   * front of the API server (its certificate is for 127.0.0.1). Default: the API server's.
   */
  server?: string;
  /**
   * Extra node options before the script, e.g. `--inspect=127.0.0.1:<port>` for a test that
   * reads the operator's heap through the inspector protocol.
   */
  nodeArgs?: readonly string[];
}

/** The operator's kubeconfig text: its token, and `server` instead of the API server's if given. */
function operatorKubeconfig(client: ClusterClient, token: string, server?: string): string {
  if (server === undefined) return client.kubeconfigYaml(token, 'tributary-operator');
  const config = client.kubeConfigFor(token, 'tributary-operator');
  config.loadFromOptions({
    clusters: config.clusters.map((cluster) => ({ ...cluster, server })),
    users: config.users,
    contexts: config.contexts,
    currentContext: config.currentContext,
  });
  return config.exportConfig();
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
    writeFileSync(kubeconfig, operatorKubeconfig(client, token, options.server), { mode: 0o600 });
    const metricsPort = await freePort();
    const logPath = join(dir, 'operator.log');
    const fd = openSync(logPath, 'a');
    const script = [...(options.nodeArgs ?? []), join(ROOT, 'operator', 'cli.ts')];
    const child = spawn(process.execPath, [...script, 'operator'], {
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
    // The test process never leaves one behind; the listener goes with the child.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    return operator;
  }

  /** The process id (for `/proc/<pid>/status`); undefined if it could not be spawned. */
  get pid(): number | undefined {
    return this.#child.pid;
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

  /** Freezes the process (SIGSTOP: timers, renewals and writes all stop; the clock does not). */
  pause(): void {
    this.#child.kill('SIGSTOP');
  }

  /** Lets a paused process go on (SIGCONT). */
  resume(): void {
    this.#child.kill('SIGCONT');
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
