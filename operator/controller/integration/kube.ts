/**
 * The reconciler's ports on a real API server: reads from informer caches, writes through
 * client-node, errors converted once into machinery ApiErrors.
 */
import { randomBytes } from 'node:crypto';
import {
  BatchV1Api,
  CoreV1Api,
  HttpMethod,
  RequestContext,
  type KubeConfig,
  type KubernetesObject,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { fetch } from 'undici';
import { GROUP, VERSION, type IntegrationStatus } from '../../api/index.ts';
import { joinKey } from '../../lib/key.ts';
import { isApiStatus, toApiError } from '../machinery/errors.ts';
import { statusError } from '../machinery/transport.ts';
import type { Cache } from '../machinery/informer-set.ts';
import type { Log } from '../../lib/log.ts';
import { JobLabel } from '../plan/job.ts';
import { statusWriter } from '../machinery/status-writer.ts';
import type { PlannedEvent } from './plan.ts';
import type { IntegrationReads, IntegrationWrites, ObjectRef } from './ports.ts';

/** Index of run Jobs by the uid of their Integration. */
export const BY_INTEGRATION_UID = 'integration-uid';
/** Index of run pods by `namespace/job-name`. */
export const BY_JOB = 'job';

/** The informers the reconciler reads from. */
export interface IntegrationCaches {
  integrations: Cache<KubernetesObject>;
  policies: Cache<KubernetesObject>;
  jobs: Cache<V1Job>;
  pods: Cache<V1Pod>;
}

/** Adds the indexes {@link KubeIntegrationReads} needs. Call before the informers start. */
export function addIndexes(caches: IntegrationCaches): void {
  caches.jobs.addIndex(BY_INTEGRATION_UID, (job) => {
    const uid = job.metadata?.labels?.[JobLabel.IntegrationUID];
    return uid === undefined ? [] : [uid];
  });
  caches.pods.addIndex(BY_JOB, (pod) => {
    const job = pod.metadata?.labels?.['job-name'];
    return job === undefined ? [] : [joinKey(pod.metadata?.namespace, job)];
  });
}

/** {@link IntegrationReads} on informer caches, plus a metadata-only GET for Secrets. */
export class KubeIntegrationReads implements IntegrationReads {
  readonly #caches: IntegrationCaches;
  readonly #kubeConfig: KubeConfig;

  /** Stores the caches; they must have the indexes of {@link addIndexes}. */
  constructor(caches: IntegrationCaches, kubeConfig: KubeConfig) {
    this.#caches = caches;
    this.#kubeConfig = kubeConfig;
  }

  integration(namespace: string, name: string): unknown {
    return this.#caches.integrations.get(namespace, name);
  }

  policy(namespace: string, name: string): unknown {
    return this.#caches.policies.get(namespace, name);
  }

  jobsOf(uid: string): V1Job[] {
    return this.#caches.jobs.byIndex(BY_INTEGRATION_UID, uid);
  }

  podsOf(namespace: string, jobName: string): V1Pod[] {
    return this.#caches.pods.byIndex(BY_JOB, joinKey(namespace, jobName));
  }

  /** A metadata-only GET: the Secret's data never reaches this process. */
  async secretExists(namespace: string, name: string): Promise<boolean> {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
    const url = cluster.server + path;
    const context = new RequestContext(url, HttpMethod.GET);
    await this.#kubeConfig.applySecurityAuthentication(context);
    const dispatcher = context.getDispatcher();
    const response = await fetch(url, {
      headers: {
        ...context.getHeaders(),
        Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      },
      ...(dispatcher !== undefined ? { dispatcher } : {}),
    });
    const text = await response.text();
    if (response.status === 404) return false;
    if (response.ok) return true;
    throw statusError(response.status, text);
  }
}

/** {@link IntegrationWrites} through client-node. */
export class KubeIntegrationWrites implements IntegrationWrites {
  readonly #batch: BatchV1Api;
  readonly #core: CoreV1Api;
  readonly #writeStatus: (object: ObjectRef, status: IntegrationStatus) => Promise<void>;
  readonly #log: Log;
  readonly #component: string;

  /** Makes the API clients; nothing is sent until a write. */
  constructor(kubeConfig: KubeConfig, log: Log, component = 'tributary-operator') {
    this.#batch = kubeConfig.makeApiClient(BatchV1Api);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#writeStatus = statusWriter(kubeConfig, 'Integration', 'integrations');
    this.#log = log;
    this.#component = component;
  }

  async createJob(job: V1Job): Promise<'created' | 'exists'> {
    try {
      await this.#batch.createNamespacedJob({
        namespace: job.metadata?.namespace ?? '',
        body: job,
      });
      return 'created';
    } catch (error) {
      const apiError = toApiError(error);
      if (isApiStatus(apiError, 409)) return 'exists';
      throw apiError;
    }
  }

  async getJob(namespace: string, name: string): Promise<V1Job | undefined> {
    try {
      return await this.#batch.readNamespacedJob({ namespace, name });
    } catch (error) {
      const apiError = toApiError(error);
      if (isApiStatus(apiError, 404)) return undefined;
      throw apiError;
    }
  }

  async deleteJob(namespace: string, name: string): Promise<void> {
    try {
      await this.#batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
    } catch (error) {
      const apiError = toApiError(error);
      if (!isApiStatus(apiError, 404)) throw apiError;
    }
  }

  updateStatus(object: ObjectRef, status: IntegrationStatus): Promise<void> {
    return this.#writeStatus(object, status);
  }

  async recordEvent(object: ObjectRef, event: PlannedEvent): Promise<void> {
    const now = new Date();
    try {
      await this.#core.createNamespacedEvent({
        namespace: object.namespace,
        body: {
          metadata: {
            name: `${object.name}.${randomBytes(8).toString('hex')}`,
            namespace: object.namespace,
          },
          involvedObject: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: 'Integration',
            name: object.name,
            namespace: object.namespace,
            uid: object.uid,
          },
          type: event.type,
          reason: event.reason,
          message: event.message.slice(0, 1024),
          source: { component: this.#component },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.#log.warn({ err: toApiError(error), reason: event.reason }, 'could not record Event');
    }
  }
}
