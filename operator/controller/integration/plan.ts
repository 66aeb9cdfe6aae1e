/**
 * The Integration reconciler's plan, in two pure passes around the only I/O a plan needs.
 * {@link decideRuns} takes every decision once: record finished runs, decide the sync, decide
 * the drift check, hold back what a stall forbids. The reconciler then looks Secrets up and
 * creates the run, if one would start. {@link composePlan} turns the decisions and what that I/O
 * found into the status (one path: every outcome is a cause summary.ts turns into conditions),
 * the Jobs to prune, the Events and when to look again.
 */
import {
  Reason,
  type EffectivePolicy,
  type Integration,
  type IntegrationStatus,
  type RunKind,
  type RunRecord,
} from '../../api/index.ts';
import { jobName } from '../plan/job-name.ts';
import { withholds, type StallCause } from './causes.ts';
import { composeStatus, progressCause } from './compose.ts';
import { webhookWakeups, type IntakeView } from './webhook.ts';
import { decide, type SyncDecision } from './decide.ts';
import { decideDrift, type DriftDecision } from './drift.ts';
import { plannedEvents, requeueAfter } from './events.ts';
import { activeRun, decisionInput, driftInput, syncState, type SyncState } from './facts.ts';
import { heldIds } from './quarantine.ts';
import { pruneJobs, recordRuns, type Recorded } from './record.ts';
import type { ObservedRun } from './runs.ts';
import { summarize, type ObservedSummary, type Summary } from './summary.ts';

/** An Integration as stored: validated, with the metadata the API server always sets. */
export type StoredIntegration = Integration & {
  metadata: Integration['metadata'] & { namespace: string; uid: string; creationTimestamp: string };
};

/** The facts a plan is made from: everything read from caches, nothing from the API server. */
export interface PlanInput {
  /** The Integration as stored, its previous status included. */
  integration: StoredIntegration;
  /** The resolved policy, or the stall that stands in for it (PolicyNotFound, InvalidPolicy). */
  policy: { ok: true; value: EffectivePolicy } | { ok: false; cause: StallCause };
  /** Every run Job of the Integration, as observed. */
  runs: readonly ObservedRun[];
  /**
   * The referenced Secrets' versions (`name=version,...`), looked up only while a failure holds
   * runs back ({@link needsCredentialCheck}); a change starts a run.
   */
  credentials?: string | undefined;
  /** The current time. */
  now: Date;
  /** Uniform randomness in [0, 1) for retry jitter. */
  random: () => number;
  /** With spec.webhook: the intake's figures for this Integration, as last polled. */
  intake?: IntakeView | undefined;
}

/** An Event to record on the Integration. */
export interface PlannedEvent {
  /** Warning for what alerts select on (failures, stalls); Normal otherwise. */
  type: 'Normal' | 'Warning';
  /** CamelCase reason from the one Reason module. */
  reason: Reason;
  /** What happened, for humans. */
  message: string;
}

/** A run to start: a sync attempt or a drift check, under its deterministic Job name. */
export interface RunStart {
  /** The Job name: the lock against a second Job for the same attempt. */
  jobName: string;
  /** sync or drift-check. */
  kind: RunKind;
  /** Due time of the run (whole seconds). */
  dueTime: Date;
  /** Attempt number within its due run, from 1. */
  attempt: number;
  /** Why it starts (Scheduled, Retry, Requested, SpecChanged), for the RunStarted Event. */
  why: string;
  /** The checkpoint cursor the run resumes from, if any. */
  checkpoint: string | undefined;
  /** Ids of the held quarantined records a sync retries. */
  quarantined: string[];
  /** The policy the run is built under. */
  policy: EffectivePolicy;
}

/** The decisions in force once stalls have held back what they forbid. */
export interface Applied {
  /** The sync decision applied to status; undefined when withheld or there is no policy. */
  sync: Exclude<SyncDecision, { kind: 'invalid' }> | undefined;
  /** The drift decision applied to status; undefined when withheld. */
  drift: Exclude<DriftDecision, { kind: 'invalid' }> | undefined;
  /** The run to start, sync before drift check; undefined when none would start. */
  start: RunStart | undefined;
  /** The active sync Job to delete before `start` (concurrencyPolicy Replace). */
  replace: string | undefined;
}

/** Every decision of one reconcile, taken once from its {@link PlanInput}. */
export interface Decisions {
  /** The facts the decisions were taken from. */
  input: PlanInput;
  /** The policy in force, when it resolved. */
  policy: EffectivePolicy | undefined;
  /** Finished runs recorded into status. */
  recorded: Recorded;
  /** The sync schedule's observed state. */
  sync: SyncState;
  /** The active drift check, if any. */
  driftActive: ObservedRun | undefined;
  /** The sync decision as taken; undefined without a policy. */
  syncDecision: SyncDecision | undefined;
  /** The drift decision as taken; undefined without a policy. */
  driftDecision: DriftDecision | undefined;
  /** The stalls known without I/O, in the order found. */
  causes: StallCause[];
  /** The decisions those stalls leave in force; `applied.start` is what the reconciler creates. */
  applied: Applied;
}

/** What the reconciler does with a reconcile, once the run (if any) was started. */
export interface Plan {
  /** The status to write; nothing is written when it equals the stored one. */
  status: IntegrationStatus;
  /**
   * Jobs to delete: runs ended because their pod could not start, then finished Jobs beyond the
   * history limits; never the run just started.
   */
  prune: string[];
  /** Events to record, in order. */
  events: PlannedEvent[];
  /** Reconcile again after this many ms (at least 1000): a due time, a Stale flip or a poll. */
  requeueAfterMs?: number;
  /** Due sync runs this reconcile skipped (startingDeadline or superseded), for the counter. */
  missed: number;
  /** Runs that finished since the last status write, newest first. */
  finished: RunRecord[];
}

/** Phase 1: every decision of a reconcile, pure and taken once. */
export function decideRuns(input: PlanInput): Decisions {
  const previous = input.integration.status ?? {};
  const recorded = recordRuns(previous, input.runs);
  const sync = syncState(previous, recorded, input.runs);
  const driftActive = activeRun(input.runs, 'drift-check');
  const policy = input.policy.ok ? input.policy.value : undefined;
  const syncDecision = policy && decide(decisionInput(input, policy, sync, driftActive));
  const busy = syncDecision?.kind === 'start' || sync.active !== undefined || !!driftActive;
  const driftDecision = policy && decideDrift(driftInput(input, policy, recorded, busy));
  const causes = stallsOf(input, syncDecision, driftDecision, sync.active);
  const taken = { input, policy, recorded, sync, driftActive, syncDecision, driftDecision };
  return { ...taken, causes, applied: applyStalls(taken, causes) };
}

/**
 * Whether the reconciler must look the referenced Secrets up: only before a run starts and
 * while the Integration is stalled on one (one GET each; Secrets are not watched).
 */
export function needsSecretLookup(decisions: Decisions): boolean {
  const conditions = decisions.input.integration.status?.conditions;
  const onSecret = conditions?.some(
    (c) =>
      c.type === 'Stalled' &&
      c.status === 'True' &&
      (c.reason === Reason.SecretNotFound || c.reason === Reason.SecretLookupFailed),
  );
  return decisions.applied.start !== undefined || onSecret === true;
}

/**
 * Whether the reconciler must look up the referenced Secrets' versions before deciding: while a
 * failure holds runs back (status.nextProbeTime), a changed Secret starts a run.
 */
export function needsCredentialCheck(integration: StoredIntegration): boolean {
  return integration.status?.nextProbeTime !== undefined;
}

/** Phase 2: the status, Events, pruning and requeue, given the stalls the I/O `found`. */
export function composePlan(decisions: Decisions, found: readonly StallCause[] = []): Plan {
  const d = decisions;
  const stalls = [...d.causes, ...found];
  const applied = found.length === 0 ? d.applied : applyStalls(d, stalls);
  const status = composeStatus(d, applied);
  const progress = progressCause(d, applied, status.lastSync, stalls.length > 0);
  const summary = summarize({
    previous: d.input.integration.status?.conditions,
    context: { generation: d.input.integration.metadata.generation, now: d.input.now },
    causes: progress ? [...stalls, progress] : stalls,
    observed: {
      createdAt: new Date(d.input.integration.metadata.creationTimestamp),
      suspended: d.input.integration.spec.suspend === true,
      policy: d.policy,
      driftDisabled: d.driftDecision?.kind === 'disabled' ? d.driftDecision.why : undefined,
      status,
      webhook: webhookFacts(d.input),
    },
  });
  status.conditions = summary.conditions;
  return outputs(d, applied, status, summary, stalls);
}

/** Both phases at once, for callers with no I/O between them (tests, tools). */
export function planIntegration(input: PlanInput, found: readonly StallCause[] = []): Plan {
  return composePlan(decideRuns(input), found);
}

/** Phase 3: Events, pruning and requeue, from the composed status. */
function outputs(
  d: Decisions,
  applied: Applied,
  status: IntegrationStatus,
  summary: Summary,
  stalls: readonly StallCause[],
): Plan {
  const missed = applied.sync?.missed ?? 0;
  const previous = d.input.integration.status ?? {};
  const after = {
    nextSyncTime: applied.sync?.nextSyncTime,
    nextDriftCheck: applied.drift?.kind === 'disabled' ? undefined : applied.drift?.next,
    staleAt: summary.staleAt,
    runEnds: d.input.runs.flatMap((run) => (run.endAt ? [run.endAt] : [])),
    webhookTimes: webhookWakeups(d.input.integration.spec.webhook, status.webhook, d.input.now),
  };
  // A run whose pod could not start is ended: its Job goes, its record stays in status.
  const ended = d.input.runs.filter((run) => run.abandoned === true);
  const kept = d.input.runs.filter((run) => run.abandoned !== true);
  const prune = d.policy ? pruneJobs(kept, d.policy, applied.start?.jobName) : [];
  return {
    status,
    prune: [...ended.map((run) => run.jobName), ...prune],
    events: plannedEvents({ previous, status, finished: d.recorded.finished, applied, missed }),
    ...requeueAfter({ ...after, status, stalls, now: d.input.now }),
    missed,
    finished: d.recorded.finished.map((run) => run.record as RunRecord),
  };
}

/** The stalls the decisions found: the policy, invalid triggers, failed attempts, the pod. */
function stallsOf(
  input: PlanInput,
  sync: SyncDecision | undefined,
  drift: DriftDecision | undefined,
  active: ObservedRun | undefined,
): StallCause[] {
  const causes: StallCause[] = [];
  if (!input.policy.ok) causes.push(input.policy.cause);
  if (sync?.kind === 'invalid' || sync?.kind === 'stalled') causes.push(sync.cause);
  if (drift?.kind === 'invalid') causes.push(drift.cause);
  // A pod that cannot start for a reason only a human can fix (a missing Secret key).
  if (active?.waiting?.reason === 'CreateContainerConfigError') {
    causes.push({
      kind: 'PodConfigError',
      jobName: active.jobName,
      message: active.waiting.message,
    });
  }
  return causes;
}

/** The decisions `stalls` leave in force (causes.ts says what each holds back). */
function applyStalls(
  d: Omit<Decisions, 'causes' | 'applied'>,
  stalls: readonly StallCause[],
): Applied {
  const holdsAll = stalls.some((cause) => withholds(cause) === 'all');
  const { syncDecision, driftDecision } = d;
  const sync = holdsAll || syncDecision?.kind === 'invalid' ? undefined : syncDecision;
  const drift = stalls.length > 0 || driftDecision?.kind === 'invalid' ? undefined : driftDecision;
  const replace = sync?.kind === 'start' ? sync.replace?.jobName : undefined;
  return { sync, drift, start: runStart(d, sync, drift), replace };
}

/** The run to start under its Job name: the sync attempt, else the drift check. */
function runStart(
  d: Omit<Decisions, 'causes' | 'applied'>,
  sync: Applied['sync'],
  drift: Applied['drift'],
): RunStart | undefined {
  const { policy } = d;
  const chosen =
    sync?.kind === 'start'
      ? { kind: 'sync' as const, ...sync.start }
      : drift?.kind === 'start'
        ? { kind: 'drift-check' as const, ...drift.start }
        : undefined;
  if (chosen === undefined || policy === undefined) return undefined;
  const { kind, dueTime, attempt, why } = chosen;
  const integration = d.input.integration.metadata.name;
  // A resync is one full pass: it starts from no checkpoint (writes are idempotent).
  const checkpoint =
    why === 'Resync'
      ? undefined
      : (d.recorded.status.checkpoint ?? d.input.integration.status?.checkpoint);
  return {
    jobName: jobName({ integration, kind, dueTime, attempt }),
    kind,
    dueTime,
    attempt,
    why,
    checkpoint: checkpoint?.cursor,
    quarantined: heldIds(d.recorded.status.quarantine ?? d.input.integration.status?.quarantine),
    policy,
  };
}

/** What the webhook conditions read, with spec.webhook. */
function webhookFacts(input: PlanInput): ObservedSummary['webhook'] {
  const spec = input.integration.spec.webhook;
  if (spec === undefined) return undefined;
  return { spec, view: input.intake ?? { observation: undefined, problem: 'no intake poll yet' } };
}
