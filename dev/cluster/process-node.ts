/**
 * The process node: a scheduler + kubelet stand-in for a control plane without a container
 * runtime. It registers a Ready Node, binds unscheduled pods to it and runs each container as a
 * local process group, reporting Kubernetes-shaped pod status so real controllers (Job, GC) see
 * what they would see on a kubelet. Each pod has a loopback IP of its own, and Node images see
 * their volume mounts (the ServiceAccount token included) through a preload (sandbox.ts).
 * Containers are restarted by `restartPolicy` with the kubelet's back-off; startup, readiness and
 * liveness probes (httpGet, tcpSocket, exec) gate Ready and restart containers.
 * Init containers and resource limits are not implemented.
 */
/* eslint-disable @typescript-eslint/no-misused-spread --
   client-node models are plain data classes (only a static attribute map); the client serializes
   any object by its declared type, so object literals and spreads of fetched objects are safe. */
import { join } from 'node:path';
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Environment } from './process-node/env.ts';
import type { ImageResolver } from './process-node/images.ts';
import { apiErrorCode, errorMessage, NodeApi } from './process-node/kube.ts';
import { nodeLabels, nodeObject, readyNodeStatus } from './process-node/node-object.ts';
import { PodInformer } from './process-node/pod-informer.ts';
import { PodWorker } from './process-node/pod-worker.ts';
import { PodAddresses } from './process-node/sandbox.ts';

export type { ImageResolver, LocalImage } from './process-node/images.ts';
export { imageTable } from './process-node/images.ts';
import { startLogServer, type LogServerTls } from './process-node/log-server.ts';
import type { Server } from 'node:https';

/** How long `stop()` waits after SIGTERM before SIGKILL, in milliseconds. */
const STOP_KILL_AFTER_MS = 5000;

/** Options of a `ProcessNode`. */
export interface ProcessNodeOptions {
  /** An admin kubeconfig (the node needs the kubelet's and the scheduler's rights). */
  kubeConfig: KubeConfig;
  /** The Node's name. Default `process-node`. */
  nodeName?: string;
  /** Pod directories and logs live under here. */
  workDir: string;
  /** Maps a container image to a local command. */
  images: ImageResolver;
  /** Base environment of every process (e.g. PATH with Node 24); NOT the whole host env. */
  env?: Record<string, string>;
  /** Structured log sink. Default: discard. Never receives secret values. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * A serving certificate for the kubelet port that answers `pods/log` (log-server.ts); its port
   * is the Node's kubelet endpoint. Default: no such port (`pods/log` then fails).
   */
  kubeletTls?: LogServerTls;
}

/** A Node whose pods run as local processes; see the module comment. */
export class ProcessNode {
  readonly #options: ProcessNodeOptions;
  readonly #nodeName: string;
  readonly #log: (message: string, fields?: Record<string, unknown>) => void;
  readonly #workers = new Map<string, PodWorker>();
  readonly #binding = new Set<string>();
  /** Workers of pods deleted from the API, kept so `stop()` still waits for their processes. */
  readonly #retired = new Set<PodWorker>();
  /** Uids of deleted pods: a relist racing the deletion must not start them again. */
  readonly #gone = new Set<string>();
  readonly #addresses = new PodAddresses();
  #api: NodeApi | undefined;
  #informer: PodInformer | undefined;
  #stopped = false;
  #logServer: Server | undefined;

  /** Stores the options; does no work. */
  constructor(options: ProcessNodeOptions) {
    this.#options = options;
    this.#nodeName = options.nodeName ?? 'process-node';
    this.#log = options.log ?? (() => undefined);
  }

  /** Registers the Node as Ready, then starts binding and running pods; resolves once watching. */
  async start(): Promise<void> {
    const api = new NodeApi(this.#options.kubeConfig);
    this.#api = api;
    await this.#registerNode(api);
    this.#informer = new PodInformer(
      api,
      {
        upsert: (pod) => {
          this.#observe(pod);
        },
        remove: (pod) => {
          this.#forget(pod.metadata?.uid ?? '');
        },
        listed: (uids) => {
          this.#reconcileMissing(uids);
        },
      },
      this.#log,
    );
    await this.#informer.start();
    this.#log('process node started', { node: this.#nodeName });
  }

  /** Stops watching, TERMs then KILLs (after 5 s) every process and waits until all are gone. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#informer?.stop();
    const workers = [...this.#workers.values(), ...this.#retired];
    await Promise.all(workers.map((w) => w.shutdown(STOP_KILL_AFTER_MS)));
    this.#logServer?.closeAllConnections();
    this.#logServer?.close();
    this.#log('process node stopped', { node: this.#nodeName });
  }

  /**
   * The file holding a container's stdout+stderr. `container` defaults to the pod's first
   * container, which needs the pod to be known to this node (else this throws).
   */
  podLogPath(namespace: string, pod: string, container?: string): string {
    const name = container ?? this.#firstContainer(namespace, pod);
    return join(this.#options.workDir, 'logs', namespace, pod, `${name}.log`);
  }

  #firstContainer(namespace: string, pod: string): string {
    const key = `${namespace}/${pod}`;
    const worker = [...this.#workers.values()].reverse().find((w) => w.key === key);
    const first = worker?.containerNames[0];
    if (first === undefined)
      throw new Error(`pod ${key} is not known to the process node; name the container`);
    return first;
  }

  async #registerNode(api: NodeApi): Promise<void> {
    let node: V1Node = await api.createOrReadNode(nodeObject(this.#nodeName));
    // The TaintNodesByCondition admission plugin taints new nodes not-ready; without the node
    // lifecycle controller nobody would remove it, so the node does (it is Ready right away).
    for (let attempt = 0; (node.spec?.taints?.length ?? 0) > 0; attempt++) {
      try {
        node = await api.replaceNode({ ...node, spec: { ...node.spec, taints: [] } });
      } catch (error) {
        if (apiErrorCode(error) !== 'Conflict' || attempt >= 5) throw error;
        node = await api.createOrReadNode(nodeObject(this.#nodeName));
      }
    }
    const labels = { ...node.metadata?.labels, ...nodeLabels(this.#nodeName) };
    const status = readyNodeStatus(this.#nodeName, secondsNow(), await this.#startLogServer());
    await api.replaceNodeStatus({ ...node, metadata: { ...node.metadata, labels }, status });
  }

  /** Starts the `pods/log` port when there is a certificate for it; its port, or 0. */
  async #startLogServer(): Promise<number> {
    const tls = this.#options.kubeletTls;
    if (tls === undefined || this.#logServer !== undefined) return 0;
    const { server, port } = await startLogServer(tls, (namespace, pod, container) =>
      this.podLogPath(namespace, pod, container),
    );
    this.#logServer = server;
    return port;
  }

  #observe(pod: V1Pod): void {
    if (this.#stopped) return;
    const nodeName = pod.spec?.nodeName;
    if (nodeName === undefined || nodeName === '') {
      if (this.#schedulable(pod)) void this.#bind(pod);
      return;
    }
    if (nodeName !== this.#nodeName) return;
    const uid = pod.metadata?.uid ?? '';
    if (this.#gone.has(uid)) return;
    let worker = this.#workers.get(uid);
    if (worker === undefined) {
      const phase = pod.status?.phase;
      const done = phase === 'Succeeded' || phase === 'Failed';
      if (done && !pod.metadata?.deletionTimestamp) return;
      worker = new PodWorker(this.#workerContext(), pod);
      this.#workers.set(uid, worker);
    }
    worker.update(pod);
  }

  #schedulable(pod: V1Pod): boolean {
    if (pod.metadata?.deletionTimestamp) return false;
    const scheduler = pod.spec?.schedulerName ?? 'default-scheduler';
    const phase = pod.status?.phase;
    if (scheduler !== 'default-scheduler' || phase === 'Succeeded' || phase === 'Failed')
      return false;
    const labels = nodeLabels(this.#nodeName);
    return Object.entries(pod.spec?.nodeSelector ?? {}).every(
      ([key, value]) => labels[key] === value,
    );
  }

  async #bind(pod: V1Pod): Promise<void> {
    const { namespace = '', name = '', uid = '' } = pod.metadata ?? {};
    if (this.#api === undefined || this.#binding.has(uid)) return;
    this.#binding.add(uid);
    try {
      // As the scheduler: a pod whose claims are not Bound stays Pending (the informer's
      // resync brings it back here).
      const claims = (pod.spec?.volumes ?? []).flatMap((v) =>
        v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
      );
      if (claims.length > 0 && !(await this.#api.claimsBound(namespace, claims))) return;
      await this.#api.bindPod(namespace, name, uid, this.#nodeName);
      this.#log('pod bound', { pod: `${namespace}/${name}`, node: this.#nodeName });
    } catch (error) {
      const code = apiErrorCode(error);
      // Conflict: already bound (a relist raced the watch). NotFound: deleted meanwhile.
      if (code !== 'Conflict' && code !== 'NotFound') {
        this.#log('binding failed; retried on resync', {
          pod: `${namespace}/${name}`,
          error: errorMessage(error),
        });
      }
    } finally {
      this.#binding.delete(uid);
    }
  }

  #forget(uid: string): void {
    this.#gone.add(uid);
    this.#addresses.release(uid);
    const worker = this.#workers.get(uid);
    if (worker === undefined) return;
    this.#workers.delete(uid);
    for (const retired of this.#retired) if (retired.finished) this.#retired.delete(retired);
    this.#retired.add(worker);
    worker.forget();
  }

  /** Pods absent from a full list are checked with a read, since a list can race the watch. */
  #reconcileMissing(uids: ReadonlySet<string>): void {
    for (const [uid, worker] of this.#workers) {
      if (uids.has(uid)) continue;
      const [namespace = '', name = ''] = worker.key.split('/');
      void this.#api
        ?.readPod(namespace, name)
        .then((pod) => {
          if (pod?.metadata?.uid !== uid) this.#forget(uid);
        })
        .catch((error: unknown) => {
          this.#log('reading a missing pod failed', {
            pod: worker.key,
            error: errorMessage(error),
          });
        });
    }
  }

  #workerContext() {
    return {
      api: this.#requireApi(),
      workDir: this.#options.workDir,
      images: this.#options.images,
      baseEnv: this.#options.env ?? {},
      serviceEnv: serviceEnvironment(this.#options.kubeConfig),
      logPath: (namespace: string, pod: string, container: string) =>
        this.podLogPath(namespace, pod, container),
      log: this.#log,
      now: secondsNow,
      podIP: (uid: string) => this.#addresses.allocate(uid),
    };
  }

  #requireApi(): NodeApi {
    if (this.#api === undefined) throw new Error('ProcessNode.start() was not called');
    return this.#api;
  }
}

/** The current time truncated to whole seconds, the precision of API timestamps. */
function secondsNow(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

/**
 * The variables the kubelet injects for the `kubernetes` Service, pointing at the API server the
 * kubeconfig names (no Service IPs are routable here).
 */
export function serviceEnvironment(kubeConfig: KubeConfig): Environment {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined) return {};
  const url = new URL(server);
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    KUBERNETES_SERVICE_HOST: host,
    KUBERNETES_SERVICE_PORT: port,
    KUBERNETES_SERVICE_PORT_HTTPS: port,
    KUBERNETES_PORT: `tcp://${url.host}`,
    [`KUBERNETES_PORT_${port}_TCP`]: `tcp://${url.host}`,
    [`KUBERNETES_PORT_${port}_TCP_PROTO`]: 'tcp',
    [`KUBERNETES_PORT_${port}_TCP_PORT`]: port,
    [`KUBERNETES_PORT_${port}_TCP_ADDR`]: host,
  };
}
