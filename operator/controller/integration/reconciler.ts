/**
 * The Integration reconciler: a fixed preamble (read, ignore NotFound and deletion, validate),
 * then the decisions (plan.ts, pure, once), then the only I/O they need (Secret lookups before a
 * run starts, the replace and the create), then the status composed once from the decisions and
 * what that I/O found, and its side effects: write status, prune, record Events. At most one
 * status write, none when nothing changed. Every outcome ends in status as a cause: an invalid
 * object, a missing Secret and a Job-name conflict alike.
 */
import {
  Integration,
  Reason,
  ReconcilePolicy,
  resolvePolicy,
  validate,
  type IntegrationStatus,
  resolutionError,
} from '../../api/index.ts';
import type { Clock } from '../../lib/clock.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../machinery/controller.ts';
import { ApiError } from '../../lib/kube/errors.ts';
import { runLogKeys, type Log } from '../../lib/log.ts';
import { splitKey } from '../../lib/key.ts';
import { buildJob, JobAnnotation, JobLabel } from '../plan/job.ts';
import { statusChanged } from '../plan/status.ts';
import type { StallCause } from './causes.ts';
import type { IntegrationMetrics } from './metrics.ts';
import { planInvalid } from './invalid.ts';
import {
  composePlan,
  decideRuns,
  needsCredentialCheck,
  needsSecretLookup,
  type Decisions,
  type Plan,
  type PlanInput,
  type RunStart,
  type StoredIntegration,
} from './plan.ts';
import type { IntegrationReads, IntegrationWrites, ObjectRef } from './ports.ts';
import { observeRun, type ObservedRun } from './runs.ts';

/** Options of {@link IntegrationReconciler}. */
export interface IntegrationReconcilerOptions {
  /** Cached reads, and the Secret lookup. */
  reads: IntegrationReads;
  /** Writes to the API server. */
  writes: IntegrationWrites;
  /** Time source: `now` of every decision. */
  clock: Clock;
  /** Logger of the reconciler (each reconcile logs through its `ctx.log`). */
  log: Log;
  /** Image of the built-in connector (this operator's image). */
  operatorImage: string;
  /** Metrics sink. Default: none. */
  metrics?: IntegrationMetrics;
  /** Uniform randomness in [0, 1) for retry jitter. Default: Math.random. */
  random?: () => number;
  /** With spec.webhook: how late a delivery may be before a sync counts its change as missed. Default 2m. */
  webhookGrace?: string | undefined;
}

/** Reconciles one Integration per call, keyed `namespace/name`. */
export class IntegrationReconciler implements Reconciler {
  readonly #o: IntegrationReconcilerOptions;

  /** Stores options; no work until reconcile. */
  constructor(options: IntegrationReconcilerOptions) {
    this.#o = options;
  }

  /** One level-based reconcile of the Integration named by `key`. */
  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const raw = this.#o.reads.integration(namespace, name);
    if (raw === undefined) {
      this.#o.metrics?.forget(namespace, name);
      this.#o.writes.forgetEvents(namespace, name);
      return {};
    }
    const meta = (raw as { metadata?: ObjectRef & { deletionTimestamp?: string } }).metadata;
    if (meta?.deletionTimestamp !== undefined) return {};
    const now = new Date(this.#o.clock.now());
    const parsed = validate(Integration, raw);
    if (!parsed.ok) {
      const object = raw as InvalidObject;
      return this.#finish(object, planInvalid(object, parsed.errors, now), ctx);
    }
    const integration = parsed.value as StoredIntegration;
    // While a failure holds runs back, a changed Secret is a reason to start one.
    const early = needsCredentialCheck(integration)
      ? await this.#lookSecretsUp(integration, ctx)
      : undefined;
    const decisions = decideRuns(this.#facts(integration, now, early?.versions));
    const secrets = needsSecretLookup(decisions)
      ? (early ?? (await this.#lookSecretsUp(integration, ctx)))
      : undefined;
    const found = secrets?.stall ? [secrets.stall] : [];
    const start = decisions.applied.start;
    if (start !== undefined && found.length === 0) {
      const launch = { integration, decisions, start, credentials: secrets?.versions };
      const refused = await this.#launch(launch, now, ctx);
      if (refused !== undefined) found.push(refused);
    }
    return this.#finish(integration, composePlan(decisions, found), ctx);
  }

  #facts(integration: StoredIntegration, now: Date, credentials: string | undefined): PlanInput {
    return {
      integration,
      policy: this.#policy(integration),
      runs: this.#runs(integration, now),
      credentials,
      now,
      random: this.#o.random ?? Math.random,
      ...(integration.spec.webhook
        ? { intake: this.#o.reads.intake(integration.metadata.uid) }
        : {}),
    };
  }

  #policy(integration: StoredIntegration): PlanInput['policy'] {
    const ref = integration.spec.policyRef?.name;
    if (ref === undefined) {
      return resolved(undefined, integration.spec.overrides, (errors) => ({
        kind: 'InvalidObject',
        errors,
      }));
    }
    const { namespace } = integration.metadata;
    const raw = this.#o.reads.policy(namespace, ref);
    if (raw === undefined) {
      return { ok: false, cause: { kind: 'PolicyNotFound', namespace, name: ref } };
    }
    const policy = validate(ReconcilePolicy, raw);
    if (!policy.ok) {
      return { ok: false, cause: { kind: 'InvalidPolicy', name: ref, errors: policy.errors } };
    }
    return resolved(policy.value.spec, integration.spec.overrides, (errors) => ({
      kind: 'InvalidPolicy',
      name: ref,
      errors,
    }));
  }

  #runs(integration: StoredIntegration, now: Date): ObservedRun[] {
    const { namespace } = integration.metadata;
    return this.#o.reads.jobsOf(integration.metadata.uid).flatMap((job) => {
      const pods = this.#o.reads.podsOf(namespace, job.metadata?.name ?? '');
      const run = observeRun(job, pods, now);
      return run ? [run] : [];
    });
  }

  /**
   * Looks the referenced Secrets up (one metadata GET each; Secrets are not watched): their
   * versions (`name=version,...`, sorted), or the stall when one is missing or the lookup was
   * refused. An outage or a timeout throws and is retried with backoff.
   */
  async #lookSecretsUp(integration: StoredIntegration, ctx: ReconcileContext): Promise<Secrets> {
    const { metadata, spec } = integration;
    const names = [
      ...new Set(
        [spec.source?.credentialsRef, spec.destination?.credentialsRef].flatMap((ref) =>
          ref ? [ref.name] : [],
        ),
      ),
    ];
    const { namespace } = metadata;
    const missing: string[] = [];
    const versions: string[] = [];
    for (const name of names) {
      try {
        const version = await this.#o.reads.secretVersion(namespace, name, ctx);
        if (version === undefined) missing.push(`"${name}"`);
        else versions.push(`${name}=${version}`);
      } catch (error) {
        // A refusal (RBAC) is a stall a human fixes; an outage or a timeout is retried.
        if (!isRefusal(error)) throw error;
        this.#o.metrics?.refused({ namespace, name: metadata.name }, Reason.SecretLookupFailed);
        const stall: StallCause = {
          kind: 'SecretLookupFailed',
          namespace,
          secret: name,
          detail: error.message,
        };
        return { versions: undefined, stall };
      }
    }
    if (missing.length > 0) {
      return {
        versions: undefined,
        stall: { kind: 'SecretNotFound', namespace, secrets: missing },
      };
    }
    return { versions: versions.sort().join(','), stall: undefined };
  }

  /** Replaces and creates the run's Job; the stall that kept it from being created, if any. */
  async #launch(launch: Launch, now: Date, ctx: ReconcileContext): Promise<StallCause | undefined> {
    const { integration, decisions, start } = launch;
    const { namespace, uid } = integration.metadata;
    const { replace } = decisions.applied;
    if (replace !== undefined) await this.#o.writes.deleteJob(namespace, replace, ctx);
    const job = buildJob({
      integration,
      policy: start.policy,
      kind: start.kind,
      dueTime: start.dueTime,
      attempt: start.attempt,
      operatorImage: this.#o.operatorImage,
      checkpoint: start.checkpoint,
      quarantined: start.quarantined,
      credentials: launch.credentials || undefined,
      gaps: integration.spec.webhook
        ? { intake: this.#o.reads.intakeEndpoints(), grace: this.#o.webhookGrace ?? '2m' }
        : undefined,
    });
    let created: 'created' | 'exists';
    try {
      created = await this.#o.writes.createJob(job, ctx);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      return this.#rejected(integration, start, error, ctx);
    }
    if (created === 'exists') {
      // The name is the lock: a Job of this name exists. Adopt it only if it is ours.
      const existing = await this.#o.writes.getJob(namespace, start.jobName, ctx);
      if (existing?.metadata?.labels?.[JobLabel.IntegrationUID] !== uid) {
        ctx.log.warn(
          { job: start.jobName },
          'run Job name taken by a Job this Integration does not own',
        );
        const detail = 'exists and is not owned by this Integration; delete or rename it';
        return {
          kind: 'RunNotCreated',
          refusal: 'JobNameConflict',
          jobName: start.jobName,
          detail,
        };
      }
      ctx.log.info(runKeys(integration, start), 'adopted existing run Job');
      return undefined;
    }
    const due = Date.parse(job.metadata?.annotations?.[JobAnnotation.DueTime] ?? '');
    this.#o.metrics?.jobCreated(start.kind, now.getTime() - due);
    ctx.log.info(runKeys(integration, start), 'run started');
    return undefined;
  }

  /** A create the API server refused (quota, admission, RBAC): the stall that reports it. */
  #rejected(
    integration: StoredIntegration,
    start: RunStart,
    error: ApiError,
    ctx: ReconcileContext,
  ): StallCause {
    const { namespace, name } = integration.metadata;
    ctx.log.warn(
      { ...runKeys(integration, start), status: error.status, err: error },
      'run Job refused',
    );
    this.#o.metrics?.refused({ namespace, name }, Reason.JobRejected);
    return {
      kind: 'RunNotCreated',
      refusal: Reason.JobRejected,
      jobName: start.jobName,
      detail: `was refused by the API server (HTTP ${error.status}): ${error.message}; fix what it names (a ResourceQuota, an admission policy, RBAC), the run is tried again every minute`,
    };
  }

  /** The one status path: write status when it changed, observe metrics, prune, record Events. */
  async #finish(
    object: { metadata: ObjectRef; status?: IntegrationStatus | undefined },
    plan: Plan,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const ref = objectRef(object);
    const { writes } = this.#o;
    if (statusChanged(object.status, plan.status)) await writes.updateStatus(ref, plan.status, ctx);
    // Metrics follow the status at once, not after the Event and prune round trips.
    this.#o.metrics?.observe(ref, plan);
    for (const jobName of plan.prune) await writes.deleteJob(ref.namespace, jobName, ctx);
    for (const event of plan.events) await writes.recordEvent(ref, event, ctx);
    return plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs };
  }
}

/**
 * An answer that retrying soon will not change: the API server refused the request itself
 * (403 Forbidden, 422 Invalid, 400, 404 of a namespace), not a conflict (409), throttling (429),
 * an outage (5xx) or no answer at all (0).
 */
function isRefusal(error: unknown): error is ApiError {
  return (
    error instanceof ApiError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 409 &&
    error.status !== 429
  );
}

/** What a Secret lookup found: the versions of all, or the stall one of them causes. */
interface Secrets {
  versions: string | undefined;
  stall: StallCause | undefined;
}

/** A run to create, with what it is created from. */
interface Launch {
  integration: StoredIntegration;
  decisions: Decisions;
  start: RunStart;
  /** The referenced Secrets' versions, stamped on the Job. */
  credentials: string | undefined;
}

/** An object that failed validation: only what the API server guarantees is read from it. */
type InvalidObject = Parameters<typeof planInvalid>[0] & { metadata: ObjectRef };

function objectRef(object: { metadata: ObjectRef }): ObjectRef {
  const { namespace, name, uid, resourceVersion } = object.metadata;
  return { namespace, name, uid, resourceVersion };
}

/**
 * The effective policy, or the cause that stalls the Integration when admitted layers still do
 * not resolve (a check admission could not make): never a thrown error retried for ever.
 */
function resolved(
  spec: Parameters<typeof resolvePolicy>[0],
  overrides: Parameters<typeof resolvePolicy>[1],
  cause: (errors: string[]) => StallCause,
): PlanInput['policy'] {
  try {
    return { ok: true, value: resolvePolicy(spec, overrides) };
  } catch (error) {
    return { ok: false, cause: cause([resolutionError(error)]) };
  }
}

/** The correlation keys of the run `start` of `integration` (runtime/run.ts logs the same). */
function runKeys(integration: StoredIntegration, start: RunStart) {
  const { name, uid } = integration.metadata;
  const { jobName, kind, attempt, dueTime } = start;
  return runLogKeys({ integration: name, uid, job: jobName, kind, attempt, dueTime });
}
