/**
 * The narrow ports the Integration reconciler reads and writes through. The operator wires them
 * to informer caches and the API server (kube.ts); unit tests use in-memory fakes.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { IntegrationStatus } from '../../api/index.ts';
import type { ReconcileContext } from '../machinery/controller.ts';
import type { PlannedEvent } from './plan.ts';
import type { IntakeView } from './webhook.ts';

/** A namespaced object the reconciler refers to. */
export interface ObjectRef {
  namespace: string;
  name: string;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}

/** Reads, from caches except where said. */
export interface IntegrationReads {
  /** The Integration as cached (unvalidated), or undefined when it does not exist. */
  integration(namespace: string, name: string): unknown;
  /** The ReconcilePolicy as cached (unvalidated), or undefined. */
  policy(namespace: string, name: string): unknown;
  /** Run Jobs owned by the Integration with this uid. */
  jobsOf(uid: string): V1Job[];
  /** Pods of a run Job. */
  podsOf(namespace: string, jobName: string): V1Pod[];
  /**
   * A Secret's resourceVersion, undefined when it does not exist: a metadata-only GET, the
   * operator never reads Secret values.
   */
  secretVersion(
    namespace: string,
    name: string,
    ctx: ReconcileContext,
  ): Promise<string | undefined>;
  /** The webhook intake's figures for the Integration with this uid, as last polled. */
  intake(uid: string): IntakeView;
  /** The intake stores' base URLs, for the gap detection of sync runs. */
  intakeEndpoints(): string[];
}

/**
 * Writes to the API server. Each either succeeds or throws a machinery ApiError; each passes
 * `ctx.signal` on and has a timeout of its own.
 */
export interface IntegrationWrites {
  /** Creates a Job; `exists` when a Job of that name already exists (the name is the lock). */
  createJob(job: V1Job, ctx: ReconcileContext): Promise<'created' | 'exists'>;
  /** Deletes a Job and, in the background, its pods. NotFound is success. */
  deleteJob(namespace: string, name: string, ctx: ReconcileContext): Promise<void>;
  /** Reads a Job straight from the API server (to adopt after AlreadyExists). */
  getJob(namespace: string, name: string, ctx: ReconcileContext): Promise<V1Job | undefined>;
  /** Replaces the status subresource; a stale resourceVersion throws a 409 ApiError. */
  updateStatus(object: ObjectRef, status: IntegrationStatus, ctx: ReconcileContext): Promise<void>;
  /** Forgets what Event aggregation remembers of a deleted Integration. No I/O. */
  forgetEvents(namespace: string, name: string): void;
  /** Records an Event on the object, aggregated with its repeats. Failures are logged and counted, never fatal. */
  recordEvent(object: ObjectRef, event: PlannedEvent, ctx: ReconcileContext): Promise<void>;
}
