/**
 * The reconciler's ports on a real API server: reads from informer caches, writes through the
 * machinery's one authenticated transport (ctx.signal plus a timeout per call; errors arrive as
 * ApiErrors, converted there once).
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { GROUP, VERSION, type IntegrationStatus } from '../../api/index.ts';
import { joinKey } from '../../lib/key.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import {
  apiPath,
  type ApiRequest,
  type ApiTransport,
  DEFAULT_API_TIMEOUT_MS,
} from '../../lib/kube/api.ts';
import type { ReconcileContext } from '../machinery/controller.ts';
import { isApiStatus } from '../../lib/kube/errors.ts';
import { EventRecorder } from '../machinery/event-recorder.ts';
import { BY_INTEGRATION_UID, BY_JOB, type Caches } from '../watches.ts';
import { statusWriter } from '../machinery/status-writer.ts';
import type { PlannedEvent } from './plan.ts';
import type { IntakeStatsPoller } from '../intake-stats.ts';
import type { IntakeView } from './webhook.ts';
import type { IntegrationReads, IntegrationWrites, ObjectRef } from './ports.ts';

/** Options of {@link KubeIntegrationReads} and {@link KubeIntegrationWrites}. */
export interface KubeIntegrationOptions {
  /** The authenticated API transport. Required. */
  api: ApiTransport;
  /** Timeout of each API call, in ms. Default {@link DEFAULT_API_TIMEOUT_MS} (30 s). */
  timeoutMs?: number;
  /** `source.component` of recorded Events. Default `tributary-operator`. */
  component?: string;
  /** `reportingInstance` of recorded Events: this replica's identity. Default `tributary-operator`. */
  reportingInstance?: string;
  /** Time of the Events' timestamps and of their aggregation window. Default the system clock. */
  clock?: Clock;
  /** Called with the Event's reason when an Event could not be written. Default: none. */
  onEventWriteFailure?: (reason: string) => void;
  /** The webhook intake's figures. Default: none found. */
  intake?: IntakeStatsPoller | undefined;
}

/** {@link IntegrationReads} on informer caches, plus a metadata-only GET for Secrets. */
export class KubeIntegrationReads implements IntegrationReads {
  readonly #caches: Caches;
  readonly #options: KubeIntegrationOptions;

  /** Stores the caches; they must carry the indexes BY_INTEGRATION_UID and BY_JOB (watches.ts). */
  constructor(caches: Caches, options: KubeIntegrationOptions) {
    this.#caches = caches;
    this.#options = options;
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

  intake(uid: string): IntakeView {
    const poller = this.#options.intake;
    if (poller === undefined)
      return { observation: undefined, problem: 'the operator runs without an intake' };
    const observation = poller.observation(uid);
    const problem =
      poller.endpoints().length === 0 ? 'no ready intake replica was found' : undefined;
    return { observation, problem };
  }

  intakeEndpoints(): string[] {
    return this.#options.intake?.endpoints() ?? [];
  }

  /** A metadata-only GET: the Secret's data never reaches this process. */
  async secretVersion(
    namespace: string,
    name: string,
    ctx: ReconcileContext,
  ): Promise<string | undefined> {
    try {
      const meta = await this.#options.api.request<{ metadata?: { resourceVersion?: string } }>({
        path: apiPath`/api/v1/namespaces/${namespace}/secrets/${name}`,
        accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
        timeoutMs: this.#options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS,
        signal: ctx.signal,
      });
      return meta.metadata?.resourceVersion ?? '';
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }
}

/** {@link IntegrationWrites} through the API transport. */
export class KubeIntegrationWrites implements IntegrationWrites {
  readonly #options: KubeIntegrationOptions;
  readonly #writeStatus: ReturnType<typeof statusWriter>;
  readonly #events: EventRecorder;

  /** Stores options; nothing is sent until a write. */
  constructor(options: KubeIntegrationOptions) {
    this.#options = options;
    this.#events = new EventRecorder({
      api: options.api,
      clock: options.clock ?? systemClock(),
      reportingInstance: options.reportingInstance ?? 'tributary-operator',
      ...(options.component === undefined ? {} : { component: options.component }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.onEventWriteFailure ? { onWriteFailure: options.onEventWriteFailure } : {}),
    });
    this.#writeStatus = statusWriter(
      options.api,
      'Integration',
      'integrations',
      options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS,
    );
  }

  async createJob(job: V1Job, ctx: ReconcileContext): Promise<'created' | 'exists'> {
    const namespace = job.metadata?.namespace ?? '';
    try {
      const path = apiPath`/apis/batch/v1/namespaces/${namespace}/jobs`;
      await this.#send(ctx, { method: 'POST', path, body: job });
      return 'created';
    } catch (error) {
      if (isApiStatus(error, 409)) return 'exists';
      throw error;
    }
  }

  async getJob(namespace: string, name: string, ctx: ReconcileContext): Promise<V1Job | undefined> {
    try {
      return await this.#send<V1Job>(ctx, { path: jobPath(namespace, name) });
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async deleteJob(namespace: string, name: string, ctx: ReconcileContext): Promise<void> {
    try {
      await this.#send(ctx, {
        method: 'DELETE',
        path: jobPath(namespace, name),
        query: { propagationPolicy: 'Background' },
      });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
  }

  updateStatus(object: ObjectRef, status: IntegrationStatus, ctx: ReconcileContext): Promise<void> {
    return this.#writeStatus(object, status, ctx);
  }

  /** Records the Event through the aggregating recorder; a failure is logged and counted. */
  forgetEvents(namespace: string, name: string): void {
    this.#events.forgetObject('Integration', namespace, name);
  }

  async recordEvent(object: ObjectRef, event: PlannedEvent, ctx: ReconcileContext): Promise<void> {
    const involved = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Integration',
      namespace: object.namespace,
      name: object.name,
      ...(object.uid === undefined ? {} : { uid: object.uid }),
    };
    await this.#events.record(involved, event, ctx);
  }

  #send<T = unknown>(ctx: ReconcileContext, request: ApiRequest): Promise<T> {
    return this.#options.api.request<T>({
      timeoutMs: this.#options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS,
      signal: ctx.signal,
      ...request,
    });
  }
}

function jobPath(namespace: string, name: string): string {
  return apiPath`/apis/batch/v1/namespaces/${namespace}/jobs/${name}`;
}
