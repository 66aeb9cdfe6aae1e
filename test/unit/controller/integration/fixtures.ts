/**
 * A tiny simulated cluster for the Integration reconciler: stored Integrations and policies,
 * Secrets by name, Jobs and pods in Kubernetes shape, and in-memory fakes of the reconciler's
 * read and write ports. Tests create objects, reconcile, then "finish" Jobs the way the Job
 * controller and kubelet would (conditions on the Job, a terminated container on the pod).
 */
import type {
  IntakeObservation,
  IntakeView,
} from '../../../../operator/controller/integration/webhook.ts';
import type { V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  RESULT_VERSION,
  type Condition,
  type IntegrationStatus,
  type RunResult,
} from '../../../../operator/api/index.ts';
import { FakeClock } from '../../../support/fake-clock.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import { IntegrationReconciler } from '../../../../operator/controller/integration/reconciler.ts';
import type { IntegrationMetrics } from '../../../../operator/controller/integration/metrics.ts';
import type { ReconcileContext } from '../../../../operator/controller/machinery/controller.ts';
import type { PlannedEvent } from '../../../../operator/controller/integration/plan.ts';
import type {
  IntegrationReads,
  IntegrationWrites,
  ObjectRef,
} from '../../../../operator/controller/integration/ports.ts';
import { CONNECTOR_CONTAINER } from '../../../../operator/controller/plan/job.ts';
import { rfc3339 } from '../../../../operator/lib/time.ts';
import { silentLogger } from '../machinery/support.ts';

/** The namespace every fixture lives in. */
export const NAMESPACE = 'payments';
/** The Integration most tests reconcile. */
export const NAME = 'stripe-customers';
/** Its reconcile key. */
export const KEY = `${NAMESPACE}/${NAME}`;
/** Its metadata.uid. */
export const UID = '6f1c1f4e-0b7a-4d49-9c0e-2b4c5a0d1e01';
/** Image of the operator, i.e. of the built-in connector. */
export const OPERATOR_IMAGE = 'ghcr.io/tributary/operator:test';

/** Named instants (whole seconds, UTC). */
export const T = {
  /** The Integration is created: its first run is due. */
  created: new Date('2026-01-05T10:00:00Z'),
  /** The first run finishes, a minute after it started. */
  firstDone: new Date('2026-01-05T10:01:00Z'),
  /** The second interval run is due (interval 15m, jitter 0%). */
  secondDue: new Date('2026-01-05T10:15:00Z'),
  /** The third interval run is due. */
  thirdDue: new Date('2026-01-05T10:30:00Z'),
} as const;

/** Milliseconds of common durations. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** Names of the Secrets the default spec refers to. */
export const SOURCE_SECRET = 'stripe-api';
export const DESTINATION_SECRET = 'ledger-token';

type Spec = Record<string, unknown>;

/** The spec most tests use: Stripe into the ledger, every 15 minutes without jitter. */
export function baseSpec(): Spec {
  return {
    source: {
      provider: 'stripe',
      apiVersion: '2024-06-20',
      resource: 'customers',
      credentialsRef: { name: SOURCE_SECRET, key: 'apiKey' },
    },
    destination: {
      url: 'http://ledger.payments.svc/customers/{id}',
      method: 'PUT',
      credentialsRef: { name: DESTINATION_SECRET, key: 'token' },
    },
    overrides: {
      sync: { interval: '15m', jitter: '0%' },
      retry: { jitter: 'None' },
    },
  };
}

/** Options of {@link storedIntegration}. */
export interface IntegrationOptions {
  name?: string;
  generation?: number;
  createdAt?: Date;
  annotations?: Record<string, string>;
  spec?: Spec;
}

/** An Integration as the API server stores it: namespace, uid, generation, creationTimestamp. */
export function storedIntegration(options: IntegrationOptions = {}): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: 'Integration',
    metadata: {
      name: options.name ?? NAME,
      namespace: NAMESPACE,
      uid: UID,
      generation: options.generation ?? 1,
      resourceVersion: '1',
      creationTimestamp: rfc3339(options.createdAt ?? T.created),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: options.spec ?? baseSpec(),
  };
}

/** A result document as a connector writes it to its termination message. */
export function result(fields: Partial<RunResult> = {}): string {
  return JSON.stringify({ version: RESULT_VERSION, outcome: 'Succeeded', ...fields });
}

/** The stats of a small successful sync. */
export const STATS = { read: 120, written: 7, unchanged: 113, quarantined: 0, failed: 0 };

/** A successful result with {@link STATS}. */
export const SUCCEEDED = result({ outcome: 'Succeeded', stats: STATS, checkpoint: 'cus_120' });

/** A failed result of an error class, retryable unless said otherwise. */
export function failed(
  errorClass: NonNullable<RunResult['error']>['class'],
  retryable = true,
): string {
  return result({
    outcome: 'Failed',
    error: { class: errorClass, message: `${errorClass} from api.stripe.com`, retryable },
    stats: { read: 0, written: 0, unchanged: 0, quarantined: 0, failed: 0 },
  });
}

/** How a fake Job ends. */
export type Ending =
  { kind: 'terminated'; exitCode: number; message?: string } | { kind: 'deadline' };

/** One write the reconciler made, in order. */
export type Write =
  | { op: 'create'; name: string }
  | { op: 'delete'; name: string }
  | { op: 'status' }
  | { op: 'event'; event: PlannedEvent };

/**
 * An in-memory cluster that implements the reconciler's ports. Jobs get their
 * creationTimestamp from the clock; updateStatus enforces resourceVersion like the API server.
 */
export class FakeCluster implements IntegrationReads, IntegrationWrites {
  readonly clock: FakeClock;
  readonly integrations = new Map<string, Record<string, unknown>>();
  readonly policies = new Map<string, Record<string, unknown>>();
  readonly secrets = new Set<string>([SOURCE_SECRET, DESTINATION_SECRET]);
  readonly jobs = new Map<string, V1Job>();
  readonly pods = new Map<string, V1Pod[]>();
  readonly writes: Write[] = [];
  /** Integrations whose Event aggregation was forgotten (deleted), `namespace/name`. */
  readonly forgotten: string[] = [];
  /** Every createJob call by Job name, AlreadyExists answers included. */
  readonly createAttempts: string[] = [];
  /** Jobs the informer cache has not seen yet: created, but missing from jobsOf. */
  readonly uncached = new Set<string>();
  /** When set, the next updateStatus throws this error and stores nothing. */
  failNextStatusWrite: Error | undefined;
  /** While set, every createJob throws this error (a quota, an admission policy, RBAC). */
  refuseCreates: Error | undefined;
  /** While set, every secretVersion throws this error. */
  refuseSecretLookups: Error | undefined;

  constructor(start: Date = T.created) {
    this.clock = new FakeClock(start.getTime());
  }

  // ---- IntegrationReads ----

  integration(namespace: string, name: string): unknown {
    const stored = this.integrations.get(`${namespace}/${name}`);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  policy(namespace: string, name: string): unknown {
    const stored = this.policies.get(`${namespace}/${name}`);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  jobsOf(uid: string): V1Job[] {
    return [...this.jobs.values()]
      .filter((job) => !this.uncached.has(job.metadata?.name ?? ''))
      .filter((job) => job.metadata?.ownerReferences?.some((ref) => ref.uid === uid) === true)
      .map((job) => structuredClone(job));
  }

  podsOf(_namespace: string, jobName: string): V1Pod[] {
    return structuredClone(this.pods.get(jobName) ?? []);
  }

  /** How many Secret lookups (API GETs in the real port) were made. */
  secretLookups = 0;

  /** resourceVersions of Secrets that changed; one not listed here is at version "1". */
  readonly secretVersions = new Map<string, string>();

  secretVersion(_namespace: string, name: string): Promise<string | undefined> {
    this.secretLookups++;
    if (this.refuseSecretLookups !== undefined) return Promise.reject(this.refuseSecretLookups);
    if (!this.secrets.has(name)) return Promise.resolve(undefined);
    return Promise.resolve(this.secretVersions.get(name) ?? '1');
  }

  /** The intake's figures per Integration uid; `intakeProblem` when none could be read. */
  readonly intakeObservations = new Map<string, IntakeObservation>();
  intakeProblem: string | undefined = undefined;

  intake(uid: string): IntakeView {
    return { observation: this.intakeObservations.get(uid), problem: this.intakeProblem };
  }

  intakeEndpoints(): string[] {
    return ['http://intake.test:8081'];
  }

  // ---- IntegrationWrites ----

  createJob(job: V1Job): Promise<'created' | 'exists'> {
    const name = job.metadata?.name ?? '';
    this.createAttempts.push(name);
    if (this.refuseCreates !== undefined) return Promise.reject(this.refuseCreates);
    if (this.jobs.has(name)) return Promise.resolve('exists');
    const stored = structuredClone(job);
    stored.metadata ??= {};
    stored.metadata.uid = `job-uid-${String(this.jobs.size + 1)}`;
    stored.metadata.creationTimestamp = new Date(this.clock.now());
    stored.status = { startTime: new Date(this.clock.now()), active: 1 };
    this.jobs.set(name, stored);
    this.writes.push({ op: 'create', name });
    return Promise.resolve('created');
  }

  deleteJob(_namespace: string, name: string): Promise<void> {
    this.jobs.delete(name);
    this.pods.delete(name);
    this.writes.push({ op: 'delete', name });
    return Promise.resolve();
  }

  getJob(_namespace: string, name: string): Promise<V1Job | undefined> {
    const job = this.jobs.get(name);
    return Promise.resolve(job === undefined ? undefined : structuredClone(job));
  }

  updateStatus(object: ObjectRef, status: IntegrationStatus): Promise<void> {
    const failure = this.failNextStatusWrite;
    if (failure !== undefined) {
      this.failNextStatusWrite = undefined;
      return Promise.reject(failure);
    }
    const key = `${object.namespace}/${object.name}`;
    const stored = this.integrations.get(key);
    const metadata = stored?.metadata as { resourceVersion: string } | undefined;
    if (stored === undefined || metadata === undefined) {
      return Promise.reject(
        new ApiError(404, `integrations "${object.name}" not found`, 'NotFound'),
      );
    }
    if (
      object.resourceVersion !== undefined &&
      object.resourceVersion !== metadata.resourceVersion
    ) {
      return Promise.reject(new ApiError(409, 'the object has been modified', 'Conflict'));
    }
    stored.status = JSON.parse(JSON.stringify(status)) as IntegrationStatus;
    metadata.resourceVersion = String(Number(metadata.resourceVersion) + 1);
    this.writes.push({ op: 'status' });
    return Promise.resolve();
  }

  forgetEvents(namespace: string, name: string): void {
    this.forgotten.push(`${namespace}/${name}`);
  }

  recordEvent(_object: ObjectRef, event: PlannedEvent): Promise<void> {
    this.writes.push({ op: 'event', event });
    return Promise.resolve();
  }

  // ---- the test's side of the cluster ----

  /** Stores (or replaces, as a user's apply would) an Integration; keeps its status. */
  apply(object: Record<string, unknown>): void {
    const metadata = object.metadata as {
      namespace: string;
      name: string;
      resourceVersion: string;
    };
    const key = `${metadata.namespace}/${metadata.name}`;
    const previous = this.integrations.get(key);
    const stored = structuredClone(object);
    if (previous !== undefined) {
      const previousMeta = previous.metadata as { resourceVersion: string };
      (stored.metadata as { resourceVersion: string }).resourceVersion = String(
        Number(previousMeta.resourceVersion) + 1,
      );
      if (previous.status !== undefined && stored.status === undefined) {
        stored.status = previous.status;
      }
    }
    this.integrations.set(key, stored);
  }

  /** Changes the stored Integration in place, as `kubectl edit` would. */
  edit(key: string, change: (object: StoredObject) => void): void {
    const stored = this.integrations.get(key) as StoredObject | undefined;
    if (stored === undefined) throw new Error(`no Integration ${key}`);
    change(stored);
    stored.metadata.resourceVersion = String(Number(stored.metadata.resourceVersion) + 1);
  }

  /** Stores a ReconcilePolicy. */
  applyPolicy(object: Record<string, unknown>): void {
    const metadata = object.metadata as { name: string };
    this.policies.set(`${NAMESPACE}/${metadata.name}`, {
      ...object,
      metadata: { ...metadata, namespace: NAMESPACE },
    });
  }

  /** The stored status of an Integration. */
  status(key = KEY): IntegrationStatus {
    const stored = this.integrations.get(key);
    const status = stored?.status as IntegrationStatus | undefined;
    return status ?? {};
  }

  /** A condition of the stored status. */
  condition(type: string, key = KEY): Condition | undefined {
    return this.status(key).conditions?.find((c) => c.type === type);
  }

  /** Names of the Jobs in the cluster, sorted. */
  jobNames(): string[] {
    return [...this.jobs.keys()].sort();
  }

  /** Jobs without a Complete or Failed condition. */
  activeJobNames(): string[] {
    return this.jobNames().filter((name) => finishedType(this.jobs.get(name)) === undefined);
  }

  /** The reconciler's writes since `from` (an index into {@link writes}). */
  writesSince(from: number): Write[] {
    return this.writes.slice(from);
  }

  /** Events recorded since `from`. */
  eventsSince(from: number): PlannedEvent[] {
    return this.writes.slice(from).flatMap((w) => (w.op === 'event' ? [w.event] : []));
  }

  /** Jobs created since `from`. */
  createdSince(from: number): string[] {
    return this.writes.slice(from).flatMap((w) => (w.op === 'create' ? [w.name] : []));
  }

  /** The Job controller and kubelet finish a Job now: Complete for exit 0, Failed otherwise. */
  finish(jobName: string, ending: Ending): void {
    const job = this.jobs.get(jobName);
    if (job === undefined) throw new Error(`no Job ${jobName}`);
    const now = new Date(this.clock.now());
    const condition: V1JobCondition =
      ending.kind === 'deadline'
        ? {
            type: 'Failed',
            status: 'True',
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
            lastTransitionTime: now,
          }
        : ending.exitCode === 0
          ? { type: 'Complete', status: 'True', lastTransitionTime: now }
          : {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
              lastTransitionTime: now,
            };
    job.status ??= {};
    job.status.active = 0;
    job.status.conditions = [condition];
    if (condition.type === 'Complete') {
      job.status.completionTime = now;
      job.status.succeeded = 1;
    } else {
      job.status.failed = 1;
    }
    if (ending.kind === 'terminated') {
      this.pods.set(jobName, [
        pod(jobName, job, {
          terminated: {
            exitCode: ending.exitCode,
            ...(ending.message === undefined ? {} : { message: ending.message }),
          },
        }),
      ]);
    }
  }

  /** Finishes a Job with a successful result. */
  succeed(jobName: string, message: string = SUCCEEDED): void {
    this.finish(jobName, { kind: 'terminated', exitCode: 0, message });
  }

  /** Finishes a Job with a failed result and the matching exit code (75 retryable, 78 not). */
  fail(jobName: string, message: string = failed('ServerError')): void {
    const retryable = (JSON.parse(message) as RunResult).error?.retryable !== false;
    this.finish(jobName, { kind: 'terminated', exitCode: retryable ? 75 : 78, message });
  }

  /** The pod of a running Job cannot start its container (kubelet's waiting state). */
  podWaiting(jobName: string, reason: string, message: string): void {
    const job = this.jobs.get(jobName);
    if (job === undefined) throw new Error(`no Job ${jobName}`);
    this.pods.set(jobName, [pod(jobName, job, { waiting: { reason, message } })]);
  }
}

/** The mutable shape of a stored Integration a test edits. */
export interface StoredObject {
  metadata: {
    name: string;
    generation: number;
    resourceVersion: string;
    annotations?: Record<string, string>;
  };
  spec: Spec & { suspend?: boolean; overrides?: Spec; policyRef?: { name: string } };
  status?: IntegrationStatus;
}

function finishedType(job: V1Job | undefined): string | undefined {
  return job?.status?.conditions?.find(
    (c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'),
  )?.type;
}

function pod(
  jobName: string,
  job: V1Job,
  state: NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number]['state'],
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${jobName}-x7k2p`,
      namespace: NAMESPACE,
      labels: { 'job-name': jobName },
      creationTimestamp: job.metadata?.creationTimestamp,
    },
    status: {
      phase: state?.waiting ? 'Pending' : 'Failed',
      containerStatuses: [
        {
          name: CONNECTOR_CONTAINER,
          image: OPERATOR_IMAGE,
          imageID: '',
          ready: false,
          restartCount: 0,
          ...(state === undefined ? {} : { state }),
        },
      ],
    },
  };
}

/** Options of {@link simulate}. */
export interface SimulationOptions {
  /** The Integration to store; default {@link storedIntegration}(). */
  integration?: Record<string, unknown>;
  /** Start time of the clock; default {@link T.created}. */
  start?: Date;
  /** Retry jitter randomness; default 0.5. */
  random?: () => number;
  /** Metrics sink; default none. */
  metrics?: IntegrationMetrics;
}

/** A cluster with one Integration and a reconciler over it. */
export interface Simulation {
  cluster: FakeCluster;
  reconciler: IntegrationReconciler;
  /** Reconciles {@link KEY} (or `key`) once. */
  reconcile: (key?: string) => ReturnType<IntegrationReconciler['reconcile']>;
  /** The context every reconcile of the simulation gets. */
  ctx: ReconcileContext;
  /** Moves the clock to `time` (never backwards). */
  at: (time: Date) => Promise<void>;
}

/** Builds a simulated cluster with one stored Integration and its reconciler. */
export function simulate(options: SimulationOptions = {}): Simulation {
  const cluster = new FakeCluster(options.start ?? T.created);
  cluster.apply(options.integration ?? storedIntegration());
  const reconciler = new IntegrationReconciler({
    reads: cluster,
    writes: cluster,
    clock: cluster.clock,
    log: silentLogger(),
    operatorImage: OPERATOR_IMAGE,
    random: options.random ?? (() => 0.5),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const ctx: ReconcileContext = { log: silentLogger(), signal: new AbortController().signal };
  return {
    cluster,
    reconciler,
    ctx,
    reconcile: (key = KEY) => reconciler.reconcile(key, ctx),
    at: async (time) => {
      const delta = time.getTime() - cluster.clock.now();
      if (delta < 0) throw new Error(`the clock cannot go back to ${time.toISOString()}`);
      await cluster.clock.advance(delta);
    },
  };
}

/** The Job name of a sync attempt of {@link NAME} due at `due`. */
export function syncJob(due: Date, attempt = 1, name = NAME): string {
  return `${name}-s-${String(Math.floor(due.getTime() / 1000))}-${String(attempt)}`;
}

/** Adds milliseconds to a date. */
export function plus(time: Date, ms: number): Date {
  return new Date(time.getTime() + ms);
}
