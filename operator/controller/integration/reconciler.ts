/**
 * The Integration reconciler: a fixed preamble (read, ignore NotFound and deletion, validate),
 * then the pure plan, then its side effects in a safe order: replace, create, write status,
 * prune, record Events. At most one status write, none when nothing changed.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  Integration,
  ReconcilePolicy,
  Reason,
  resolvePolicy,
  validate,
  type EffectivePolicy,
  type IntegrationStatus,
} from '../../api/index.ts';
import type { Clock } from '../../lib/clock.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../machinery/controller.ts';
import { TerminalError } from '../machinery/errors.ts';
import type { Log } from '../../lib/log.ts';
import { splitKey } from '../../lib/key.ts';
import { setCondition } from '../plan/conditions.ts';
import { buildJob, JobLabel } from '../plan/job.ts';
import { JobAnnotation } from '../plan/job.ts';
import type { IntegrationMetrics } from './metrics.ts';
import { planIntegration, type Plan, type StoredIntegration } from './plan.ts';
import type { IntegrationReads, IntegrationWrites, ObjectRef } from './ports.ts';
import { observeRun, type ObservedRun } from './runs.ts';
import type { Blocked } from './decide.ts';

/** Options of {@link IntegrationReconciler}. */
export interface IntegrationReconcilerOptions {
  reads: IntegrationReads;
  writes: IntegrationWrites;
  clock: Clock;
  log: Log;
  /** Image of the built-in connector (this operator's image). */
  operatorImage: string;
  metrics?: IntegrationMetrics;
  /** Uniform randomness in [0, 1) for retry jitter. Default: Math.random. */
  random?: () => number;
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
      return {};
    }
    const meta = (raw as { metadata?: ObjectRef & { deletionTimestamp?: string } }).metadata;
    if (meta?.deletionTimestamp !== undefined) return {};
    const now = new Date(this.#o.clock.now());
    const parsed = validate(Integration, raw);
    if (!parsed.ok) return this.#invalid(raw, parsed.errors, now, ctx);
    const integration = parsed.value as StoredIntegration;

    const facts = {
      integration,
      policy: this.#policy(integration),
      runs: this.#runs(integration),
      now,
      random: this.#o.random ?? Math.random,
    };
    // Secrets are looked up (one GET each) only when it matters: before a run would start, and
    // while the Integration is stalled on one. Other reconciles (Job and pod events) skip it.
    let plan = planIntegration({ ...facts, missingSecrets: [] });
    if (plan.start !== undefined || stalledOnSecret(integration)) {
      const missingSecrets = await this.#missingSecrets(integration, ctx);
      if (missingSecrets.length > 0) plan = planIntegration({ ...facts, missingSecrets });
    }
    await this.#apply(integration, plan, now, ctx);
    this.#o.metrics?.observe(integration, plan);
    return plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs };
  }

  #policy(
    integration: StoredIntegration,
  ): { ok: true; value: EffectivePolicy } | { ok: false; blocked: Blocked } {
    const ref = integration.spec.policyRef?.name;
    let policySpec;
    if (ref !== undefined) {
      const raw = this.#o.reads.policy(integration.metadata.namespace, ref);
      if (raw === undefined) {
        return {
          ok: false,
          blocked: {
            reason: Reason.PolicyNotFound,
            message: `ReconcilePolicy "${ref}" not found in namespace ${integration.metadata.namespace}: create it or fix spec.policyRef`,
          },
        };
      }
      const policy = validate(ReconcilePolicy, raw);
      if (!policy.ok) {
        return {
          ok: false,
          blocked: {
            reason: Reason.InvalidSpec,
            message: `ReconcilePolicy "${ref}" is invalid: ${policy.errors.join('; ')}`,
          },
        };
      }
      policySpec = policy.value.spec;
    }
    return { ok: true, value: resolvePolicy(policySpec, integration.spec.overrides) };
  }

  async #missingSecrets(integration: StoredIntegration, ctx: ReconcileContext): Promise<string[]> {
    const { namespace } = integration.metadata;
    const names = new Set(
      [
        integration.spec.source?.credentialsRef,
        integration.spec.destination?.credentialsRef,
      ].flatMap((ref) => (ref ? [ref.name] : [])),
    );
    const missing: string[] = [];
    for (const name of names) {
      if (!(await this.#o.reads.secretExists(namespace, name, ctx))) missing.push(`"${name}"`);
    }
    return missing;
  }

  #runs(integration: StoredIntegration): ObservedRun[] {
    const { namespace } = integration.metadata;
    return this.#o.reads.jobsOf(integration.metadata.uid).flatMap((job) => {
      const run = observeRun(job, this.#o.reads.podsOf(namespace, job.metadata?.name ?? ''));
      return run ? [run] : [];
    });
  }

  async #apply(
    integration: StoredIntegration,
    plan: Plan,
    now: Date,
    ctx: ReconcileContext,
  ): Promise<void> {
    const ref = objectRef(integration);
    const { writes } = this.#o;
    if (plan.replace !== undefined) await writes.deleteJob(ref.namespace, plan.replace, ctx);
    if (plan.start !== undefined) await this.#start(integration, plan, now, ctx);
    if (!statusEqual(integration.status, plan.status))
      await writes.updateStatus(ref, plan.status, ctx);
    for (const jobName of plan.prune) await writes.deleteJob(ref.namespace, jobName, ctx);
    for (const event of plan.events) await writes.recordEvent(ref, event, ctx);
  }

  async #start(
    integration: StoredIntegration,
    plan: Plan,
    now: Date,
    ctx: ReconcileContext,
  ): Promise<void> {
    const start = plan.start;
    if (start === undefined) return;
    const job = buildJob({
      integration,
      policy: plan.status.effectivePolicy as EffectivePolicy,
      kind: start.kind,
      dueTime: start.dueTime,
      attempt: start.attempt,
      operatorImage: this.#o.operatorImage,
      checkpoint: plan.status.checkpoint?.cursor,
    });
    const outcome = await this.#o.writes.createJob(job, ctx);
    if (outcome === 'exists') {
      // The name is the lock: a Job of this name exists. Adopt it only if it is ours.
      const existing = await this.#o.writes.getJob(
        integration.metadata.namespace,
        start.jobName,
        ctx,
      );
      const owner = existing?.metadata?.labels?.[JobLabel.IntegrationUID];
      if (owner !== integration.metadata.uid) {
        throw new TerminalError(
          `Job ${start.jobName} exists and is not owned by this Integration; delete or rename it`,
        );
      }
      ctx.log.info({ job: start.jobName }, 'adopted existing run Job');
      return;
    }
    const due = Date.parse(job.metadata?.annotations?.[JobAnnotation.DueTime] ?? '');
    this.#o.metrics?.jobCreated(start.kind, now.getTime() - due);
    ctx.log.info({ job: start.jobName, attempt: start.attempt, kind: start.kind }, 'run started');
  }

  /** An object that fails validation after admission: Stalled/InvalidSpec, not a crash. */
  async #invalid(
    raw: unknown,
    errors: string[],
    now: Date,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const object = raw as {
      metadata: ObjectRef & { generation?: number };
      status?: IntegrationStatus;
    };
    const context = { generation: object.metadata.generation, now };
    const message = `spec is invalid: ${errors.slice(0, 5).join('; ')}`;
    let conditions = object.status?.conditions;
    for (const type of ['Stalled', 'Ready'] as const) {
      conditions = setCondition(
        conditions,
        {
          type,
          status: type === 'Stalled' ? 'True' : 'False',
          reason: Reason.InvalidSpec,
          message,
        },
        context,
      );
    }
    const status = {
      ...object.status,
      observedGeneration: object.metadata.generation ?? 0,
      conditions,
    };
    this.#o.metrics?.observeConditions(object.metadata.namespace, object.metadata.name, conditions);
    if (!statusEqual(object.status, status)) {
      await this.#o.writes.updateStatus(objectRef(object), status, ctx);
      const event = { type: 'Warning' as const, reason: Reason.InvalidSpec, message };
      await this.#o.writes.recordEvent(objectRef(object), event, ctx);
    }
    return {};
  }
}

/** Whether the last status said a referenced Secret was missing. */
function stalledOnSecret(integration: StoredIntegration): boolean {
  return (
    integration.status?.conditions?.some(
      (c) => c.type === 'Stalled' && c.status === 'True' && c.reason === Reason.SecretNotFound,
    ) ?? false
  );
}

function objectRef(object: { metadata: ObjectRef }): ObjectRef {
  const { namespace, name, uid, resourceVersion } = object.metadata;
  return { namespace, name, uid, resourceVersion };
}

/** Compares statuses as they would be serialized (undefined fields dropped). */
function statusEqual(a: IntegrationStatus | undefined, b: IntegrationStatus): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? {})), JSON.parse(JSON.stringify(b)));
}
