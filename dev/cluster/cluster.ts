/**
 * A real local control plane: etcd, kube-apiserver (RBAC and the default admission plugins,
 * Pod Security included) and kube-controller-manager on 127.0.0.1 with free ports and a temp dir,
 * plus the process node that runs Job pods as local processes; optionally kube-scheduler, kwok's
 * fake Nodes and a CronJob-only controller manager (components.ts).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { findBinaries, type Binaries } from './binaries.ts';
import {
  componentTokens,
  startComponents,
  tokenFile,
  type ComponentOptions,
  type Components,
} from './components.ts';
import { Daemon, freePort, waitFor } from './processes.ts';
import { ProcessNode, type ImageResolver } from './process-node.ts';

/**
 * The controllers of Jobs, namespaces, ServiceAccounts and quotas: what the operator's own
 * objects need.
 */
export const CORE_CONTROLLERS = [
  'job-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'ttl-after-finished-controller',
  'pod-garbage-collector-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'cronjob-controller',
  // Quota admission needs each ResourceQuota's status, which only this controller computes.
  'resourcequota-controller',
  // Fills the built-in admin/edit/view ClusterRoles from the roles labelled to aggregate into
  // them (the install's tributary-edit and tributary-view).
  'clusterrole-aggregation-controller',
] as const;

/**
 * The workload controllers: an installed Deployment becomes ReplicaSets and pods on the process
 * node, StatefulSets get pods, and PodDisruptionBudgets get a status (evictions honour them).
 */
export const WORKLOAD_CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'disruption-controller',
] as const;

/**
 * The volume controllers, for a StatefulSet's claims (the intake's SQLite volumes): the binder
 * binds a claim to a PersistentVolume a test provides (there is no provisioner), and the two
 * protection controllers lift the finalizers the StorageObjectInUseProtection admission plugin
 * puts on every claim and volume, without which a namespace holding a claim is never deleted.
 */
export const STORAGE_CONTROLLERS = [
  'persistentvolume-binder-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
] as const;

/**
 * The controllers kube-controller-manager runs. Not `*`: the node lifecycle and taint eviction
 * controllers would evict pods from a node without kubelet heartbeats.
 */
export const CONTROLLERS: readonly string[] = [
  ...CORE_CONTROLLERS,
  ...WORKLOAD_CONTROLLERS,
  ...STORAGE_CONTROLLERS,
];

/** Options of {@link startCluster}. */
export interface ClusterOptions extends ComponentOptions {
  /** Binaries to run. Default: the cache of `npm run cluster:build`. */
  binaries?: Binaries;
  /** Maps images to local commands for the process node. Default: no image can run. */
  images?: ImageResolver;
  /** Base environment of pod processes. Default: PATH of this process. */
  podEnv?: Record<string, string>;
  /** Run etcd with fsync (slower, durable). Default: false. */
  fsync?: boolean;
  /** Keep the temp dir after stop, for debugging. Default: false. */
  keepDir?: boolean;
  /** The controllers kube-controller-manager runs. Default {@link CONTROLLERS}. */
  controllers?: readonly string[];
  /**
   * An audit policy (YAML): the API server writes what it selects to `logs/audit.log` in the
   * cluster dir (JSON lines), across restarts. Default: no audit log.
   */
  auditPolicy?: string;
  /** Run the process node, which binds and runs pods as local processes. Default: true. */
  processNode?: boolean;
}

/** The control-plane processes {@link Cluster.restart} can restart. */
export type Component = 'kube-apiserver' | 'etcd' | 'kube-controller-manager';

/** Result of a kubectl invocation. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What identifies a running cluster; serializable, so test workers can attach to it. */
export interface ClusterInfo {
  /** The temp dir holding data, certificates, logs and pod dirs. */
  dir: string;
  /** `https://127.0.0.1:<port>`. */
  server: string;
  /** PEM of the API server's self-signed serving certificate. */
  ca: string;
  /** A token in group system:masters. */
  adminToken: string;
  /** Path of an admin kubeconfig file. */
  kubeconfigPath: string;
  /** The kubectl binary of the same version as the API server. */
  kubectl: string;
  /** Where the process node keeps pod dirs and logs. */
  nodeDir: string;
}

/** Clients of a running cluster: admin, a ServiceAccount, or kubectl. */
export class ClusterClient {
  /** The cluster this client talks to. */
  readonly info: ClusterInfo;
  /** An admin client configuration. */
  readonly kubeConfig: KubeConfig;

  constructor(info: ClusterInfo) {
    this.info = info;
    this.kubeConfig = this.kubeConfigFor(info.adminToken, 'admin');
  }

  /** A kubeconfig file's text that authenticates with `token` (admin by default). */
  kubeconfigYaml(token = this.info.adminToken, user = 'user'): string {
    return kubeconfigYaml(this.info.server, this.info.ca, token, user);
  }

  /** A client configuration that authenticates with `token` instead of as admin. */
  kubeConfigFor(token: string, user = 'user'): KubeConfig {
    const config = new KubeConfig();
    config.loadFromString(this.kubeconfigYaml(token, user));
    return config;
  }

  /** A token of a ServiceAccount, via the TokenRequest API. */
  async serviceAccountToken(namespace: string, name: string, expirationSeconds = 24 * 3600) {
    const core = this.kubeConfig.makeApiClient(CoreV1Api);
    const response = await core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds } },
    });
    const token = response.status?.token;
    if (token === undefined) throw new Error(`no token issued for ${namespace}/${name}`);
    return token;
  }

  /** Runs kubectl (the built version) as admin, or with `token`; never throws on exit code. */
  async kubectl(args: string[], options: { token?: string; input?: string } = {}) {
    const path = join(this.info.dir, `kubectl-${randomBytes(6).toString('hex')}.kubeconfig`);
    writeFileSync(path, this.kubeconfigYaml(options.token), { mode: 0o600 });
    try {
      return await runCommand(
        this.info.kubectl,
        args,
        { ...process.env, KUBECONFIG: path },
        options.input,
      );
    } finally {
      rmSync(path, { force: true });
    }
  }
}

/** A running local control plane that this process owns. */
export interface Cluster extends ClusterClient, Components {
  /** The process node running Job pods; undefined with `processNode: false`. */
  readonly node: ProcessNode | undefined;
  /** Stops every process and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Restarts one process on the same ports and data (SIGTERM, or SIGKILL with `kill`), down for
   * `downMs`; resolves once it serves again (`/readyz` or `/health`).
   */
  restart(component: Component, options?: { kill?: boolean; downMs?: number }): Promise<void>;
  /** The audit log's path (see {@link ClusterOptions.auditPolicy}). */
  readonly auditLogPath: string;
}

/** Starts a control plane; resolves once the API server is ready and the node is Ready. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const binaries = options.binaries ?? findBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-cluster-'));
  const daemons: Daemon[] = [];
  const killAll = () => {
    for (const daemon of daemons) if (daemon.pid !== undefined) process.kill(daemon.pid, 'SIGKILL');
  };
  process.once('exit', killAll);
  try {
    return await bootstrap({ ...options, binaries, dir, daemons, killAll });
  } catch (error) {
    process.removeListener('exit', killAll);
    await Promise.all(daemons.map((daemon) => daemon.stop(2000)));
    if (options.keepDir !== true) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

interface BootstrapContext extends ClusterOptions {
  binaries: Binaries;
  dir: string;
  daemons: Daemon[];
  killAll: () => void;
}

async function bootstrap(context: BootstrapContext): Promise<Cluster> {
  const { binaries, dir, daemons } = context;
  for (const sub of ['etcd', 'pki', 'logs', 'node']) mkdirSync(join(dir, sub), { recursive: true });

  const { etcd, etcdUrl } = await startEtcd(context);
  const pki = writePki(dir);
  const auditLogPath = join(dir, 'logs', 'audit.log');
  const audit =
    context.auditPolicy === undefined ? undefined : writeAuditPolicy(dir, context.auditPolicy);
  const adminToken = randomBytes(24).toString('hex');
  const tokens = componentTokens();
  writeFileSync(join(dir, 'tokens.csv'), tokenFile(adminToken, tokens));

  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const apiserver = Daemon.start(
    'kube-apiserver',
    binaries.kubeApiserver,
    [
      ...apiserverArgs({ dir, port, etcdUrl, pki }),
      ...(audit === undefined
        ? []
        : [`--audit-policy-file=${audit}`, `--audit-log-path=${auditLogPath}`]),
    ],
    join(dir, 'logs', 'kube-apiserver.log'),
  );
  daemons.push(apiserver);
  const apiserverReady = () =>
    waitFor(
      'kube-apiserver /readyz',
      async () => {
        apiserver.assertRunning();
        return (await probe(`${server}/readyz`, adminToken)) === 200 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
  await apiserverReady();
  const kubeconfigPath = join(dir, 'admin.kubeconfig');
  const info: ClusterInfo = {
    dir,
    server,
    ca: readFileSync(join(dir, 'pki', 'apiserver.crt'), 'utf8'),
    adminToken,
    kubeconfigPath,
    kubectl: binaries.kubectl,
    nodeDir: join(dir, 'node'),
  };
  const client = new ClusterClient(info);
  writeFileSync(kubeconfigPath, client.kubeconfigYaml(adminToken, 'admin'), { mode: 0o600 });

  const controllerManager = Daemon.start(
    'kube-controller-manager',
    binaries.kubeControllerManager,
    [
      `--kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      '--secure-port=0',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${join(dir, 'pki', 'apiserver.crt')}`,
      `--controllers=${mainControllers(context).join(',')}`,
    ],
    join(dir, 'logs', 'kube-controller-manager.log'),
  );
  daemons.push(controllerManager);

  const node = await startProcessNode(context, client);
  const components = await startComponents(context, { ...context, tokens }, client).catch(
    async (error: unknown) => {
      await node?.stop();
      throw error;
    },
  );
  await waitForDefaultServiceAccount(client.kubeConfig, controllerManager);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await node?.stop();
    for (const daemon of [...daemons].reverse()) await daemon.stop();
    process.removeListener('exit', context.killAll);
    if (context.keepDir !== true) rmSync(dir, { recursive: true, force: true });
  };
  const ready: Record<Component, () => Promise<unknown>> = {
    'kube-apiserver': apiserverReady,
    etcd: () => etcdHealthy(etcd, etcdUrl),
    'kube-controller-manager': () => {
      controllerManager.assertRunning();
      return Promise.resolve();
    },
  };
  const processes = {
    'kube-apiserver': apiserver,
    etcd,
    'kube-controller-manager': controllerManager,
  };
  const restart: Cluster['restart'] = async (component, options = {}) => {
    await processes[component].restart(options);
    await ready[component]();
  };
  return Object.assign(client, { node, stop, restart, auditLogPath, ...components });
}

async function startProcessNode(
  options: ClusterOptions,
  client: ClusterClient,
): Promise<ProcessNode | undefined> {
  if (options.processNode === false) return undefined;
  const node = new ProcessNode({
    kubeConfig: client.kubeConfig,
    workDir: client.info.nodeDir,
    images: options.images ?? (() => undefined),
    env: options.podEnv ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    // The API server's own self-signed pair (for 127.0.0.1) serves the node's pods/log port.
    kubeletTls: {
      cert: readFileSync(join(client.info.dir, 'pki', 'apiserver.crt'), 'utf8'),
      key: readFileSync(join(client.info.dir, 'pki', 'apiserver.key'), 'utf8'),
    },
  });
  await node.start();
  return node;
}

/** The main controller manager's list: without `cronjob-controller` when a second one runs it. */
function mainControllers(options: ClusterOptions): readonly string[] {
  const controllers = options.controllers ?? CONTROLLERS;
  return options.cronJobController === undefined
    ? controllers
    : controllers.filter((name) => name !== 'cronjob-controller');
}

async function startEtcd({
  binaries,
  dir,
  daemons,
  fsync,
}: BootstrapContext): Promise<{ etcd: Daemon; etcdUrl: string }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = Daemon.start(
    'etcd',
    binaries.etcd,
    [
      '--name=tributary',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=tributary=${peerUrl}`,
      '--initial-cluster-state=new',
      ...(fsync === true ? [] : ['--unsafe-no-fsync=true']),
      '--log-level=warn',
    ],
    join(dir, 'logs', 'etcd.log'),
  );
  daemons.push(etcd);
  await etcdHealthy(etcd, clientUrl);
  return { etcd, etcdUrl: clientUrl };
}

function etcdHealthy(etcd: Daemon, clientUrl: string): Promise<true> {
  return waitFor(
    'etcd /health',
    async () => {
      etcd.assertRunning();
      return (await probe(`${clientUrl}/health`)) === 200 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

function writeAuditPolicy(dir: string, policy: string): string {
  const path = join(dir, 'pki', 'audit-policy.yaml');
  writeFileSync(path, policy);
  return path;
}

interface Pki {
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/** The ServiceAccount signing key pair; the API server makes its own serving certificate. */
function writePki(dir: string): Pki {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const pki = {
    serviceAccountKey: join(dir, 'pki', 'sa.key'),
    serviceAccountPub: join(dir, 'pki', 'sa.pub'),
  };
  writeFileSync(pki.serviceAccountKey, privateKey, { mode: 0o600 });
  writeFileSync(pki.serviceAccountPub, publicKey);
  return pki;
}

function apiserverArgs(o: { dir: string; port: number; etcdUrl: string; pki: Pki }): string[] {
  return [
    `--etcd-servers=${o.etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${o.port}`,
    `--cert-dir=${join(o.dir, 'pki')}`,
    `--token-auth-file=${join(o.dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${o.pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${o.pki.serviceAccountKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
    // Nodes are reached at their InternalIP (127.0.0.1); a Node's Hostname resolves nowhere.
    '--kubelet-preferred-address-types=InternalIP',
  ];
}

/** The HTTP status of GET `url`, or undefined when nothing answers. TLS is not verified. */
function probe(url: string, token?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const request = get(url, { headers, rejectUnauthorized: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', () => {
      resolve(undefined);
    });
    request.on('timeout', () => request.destroy());
  });
}

function kubeconfigYaml(server: string, ca: string, token: string, user: string): string {
  const caData = Buffer.from(ca).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: tributary-local`,
    `  cluster: {server: "${server}", certificate-authority-data: "${caData}"}`,
    'users:',
    `- name: ${user}`,
    `  user: {token: "${token}"}`,
    'contexts:',
    `- name: tributary-local`,
    `  context: {cluster: tributary-local, user: ${user}}`,
    'current-context: tributary-local',
    '',
  ].join('\n');
}

/** Pods need the `default` ServiceAccount, which the serviceaccount controller creates. */
async function waitForDefaultServiceAccount(kubeConfig: KubeConfig, controllerManager: Daemon) {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await waitFor(
    'the default ServiceAccount',
    async () => {
      controllerManager.assertRunning();
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    },
    { timeoutMs: 60_000 },
  );
}

/** Runs a command to completion, feeding `input` to stdin; never throws on exit code. */
function runCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
