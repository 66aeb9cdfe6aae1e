import {
  ApiException,
  CoreV1Api,
  Watch,
  type KubeConfig,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { decodeObjectData, type ObjectData } from './objects.ts';

/** The API error categories the node acts on; everything else is `Unknown` (retried). */
export type ApiErrorCode = 'NotFound' | 'Conflict' | 'Gone' | 'Unknown';

/** Classifies a client or watch error once, by HTTP status code (never by message). */
export function apiErrorCode(error: unknown): ApiErrorCode {
  const status =
    error instanceof ApiException
      ? error.code
      : (error as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  switch (status) {
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    default:
      return 'Unknown';
  }
}

/** A log-safe description of a thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** A pod watch event; `object` is raw JSON (timestamps are strings, not `Date`s). */
export interface PodEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: V1Pod & { code?: number };
}

/** The narrow slice of the API the process node uses (the kubelet's and scheduler's rights). */
export class NodeApi {
  readonly #core: CoreV1Api;
  readonly #watch: Watch;

  /** Builds clients only; does no I/O. */
  constructor(kubeConfig: KubeConfig) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#watch = new Watch(kubeConfig);
  }

  /** Pods of all namespaces with the list's resourceVersion. */
  async listPods(): Promise<{ pods: V1Pod[]; resourceVersion: string }> {
    const list = await this.#core.listPodForAllNamespaces();
    return { pods: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /**
   * Starts a pod watch from `resourceVersion`; resolves once the server accepted it.
   * `done` is called exactly once when the watch ends (null on a clean server-side close).
   */
  watchPods(
    resourceVersion: string,
    onEvent: (event: PodEvent) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    return this.#watch.watch(
      '/api/v1/pods',
      { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 20 },
      (type, object) => {
        onEvent({ type: type as PodEvent['type'], object: object as PodEvent['object'] });
      },
      done,
    );
  }

  /** The pod, or undefined when it no longer exists. */
  async readPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return ignoreNotFound(this.#core.readNamespacedPod({ namespace, name }));
  }

  /** Replaces `pods/status` (optimistic concurrency on `pod.metadata.resourceVersion`). */
  async replacePodStatus(pod: V1Pod): Promise<void> {
    const { namespace = '', name = '' } = pod.metadata ?? {};
    await this.#core.replaceNamespacedPodStatus({ namespace, name, body: pod });
  }

  /**
   * Whether every one of these PersistentVolumeClaims is Bound: the scheduler binds no pod
   * whose claims are not (a missing claim counts as unbound).
   */
  async claimsBound(namespace: string, names: readonly string[]): Promise<boolean> {
    for (const name of names) {
      const claim = await ignoreNotFound(
        this.#core.readNamespacedPersistentVolumeClaim({ namespace, name }),
      );
      if (claim?.status?.phase !== 'Bound') return false;
    }
    return true;
  }

  /** Binds a pod to a node through `pods/binding`, as the scheduler does. */
  async bindPod(namespace: string, name: string, uid: string, nodeName: string): Promise<void> {
    await this.#core.createNamespacedPodBinding({
      namespace,
      name,
      body: {
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      },
    });
  }

  /** Deletes the pod with this uid immediately (grace 0); a pod already gone is not an error. */
  async deletePodNow(namespace: string, name: string, uid: string): Promise<void> {
    await ignoreNotFound(
      this.#core.deleteNamespacedPod({
        namespace,
        name,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      }),
    );
  }

  /** A Secret's decoded data, or undefined when it does not exist. */
  async readSecret(namespace: string, name: string): Promise<ObjectData | undefined> {
    const secret = await ignoreNotFound(this.#core.readNamespacedSecret({ namespace, name }));
    return secret && decodeObjectData(undefined, secret.data);
  }

  /** A ConfigMap's data (`data` and `binaryData`), or undefined when it does not exist. */
  async readConfigMap(namespace: string, name: string): Promise<ObjectData | undefined> {
    const map = await ignoreNotFound(this.#core.readNamespacedConfigMap({ namespace, name }));
    return map && decodeObjectData(map.data, map.binaryData);
  }

  /** A token for the pod's service account bound to the pod (TokenRequest), as the kubelet gets. */
  async requestToken(
    pod: V1Pod,
    audience: string | undefined,
    expirationSeconds: number,
  ): Promise<string> {
    const { namespace = '', name = '', uid = '' } = pod.metadata ?? {};
    const request = await this.#core.createNamespacedServiceAccountToken({
      namespace,
      name: pod.spec?.serviceAccountName ?? 'default',
      body: {
        spec: {
          audiences: audience === undefined ? [] : [audience],
          expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid },
        },
      },
    });
    return request.status?.token ?? '';
  }

  /** Creates the Node, or returns the existing one of that name. */
  async createOrReadNode(node: V1Node): Promise<V1Node> {
    try {
      return await this.#core.createNode({ body: node });
    } catch (error) {
      if (apiErrorCode(error) !== 'Conflict') throw error;
      return this.#core.readNode({ name: node.metadata?.name ?? '' });
    }
  }

  /** Replaces the Node (spec and metadata; status is ignored by this endpoint). */
  async replaceNode(node: V1Node): Promise<V1Node> {
    return this.#core.replaceNode({ name: node.metadata?.name ?? '', body: node });
  }

  /** Replaces `nodes/status`. */
  async replaceNodeStatus(node: V1Node): Promise<V1Node> {
    return this.#core.replaceNodeStatus({ name: node.metadata?.name ?? '', body: node });
  }
}

async function ignoreNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (apiErrorCode(error) === 'NotFound') return undefined;
    throw error;
  }
}
