/**
 * The conditions of an Integration, computed from what the plan decided and observed. Pure.
 * Polarity follows kstatus: Ready is normal-true; Reconciling and Stalled are present only while
 * true; the other abnormal-true conditions are always present so dashboards see False too.
 */
import {
  ConditionType,
  Reason,
  type Condition,
  type EffectivePolicy,
  type IntegrationStatus,
  type WebhookSpec,
} from '../../api/index.ts';
import {
  markReconciling,
  markSettled,
  markStalled,
  removeCondition,
  setCondition,
  type ConditionChange,
  type ConditionContext,
  type Conditions,
} from '../plan/conditions.ts';
import {
  explain,
  isStall,
  stallsByImportance,
  type Cause,
  type Explanation,
  type ProgressCause,
} from './causes.ts';
import {
  degradedCondition,
  deprecatedCondition,
  driftedCondition,
  staleCondition,
  suspendedCondition,
  syncedCondition,
  type Facts,
} from './observed.ts';
import { volumeCondition } from './volume.ts';
import { schemaChangedCondition } from './schema-changed.ts';
import { webhookConditions, type IntakeView } from './webhook.ts';

/** What the conditions are computed from. */
export interface SummaryInput {
  /** The conditions as stored: lastTransitionTime is kept for those that do not change. */
  previous: Conditions;
  /** The generation stamped on every condition, and the time of those that change. */
  context: ConditionContext;
  /**
   * Every cause that holds, in any order: the most important stall names Stalled and Ready;
   * otherwise the first progress cause names Reconciling.
   */
  causes: readonly Cause[];
  /**
   * What the other conditions (Synced, Stale, Drifted, ...) are computed from. Absent for an
   * object that cannot be read (fails validation): those conditions then stay as they were.
   */
  observed?: ObservedSummary | undefined;
}

/** The facts of a readable Integration the other conditions are computed from. */
export interface ObservedSummary {
  /** metadata.creationTimestamp: Stale counts from it until a sync succeeds. */
  createdAt: Date;
  /** spec.suspend. */
  suspended: boolean;
  /** The policy in force; undefined when it could not be resolved. */
  policy: EffectivePolicy | undefined;
  /** Why no drift checks run, when they do not: drift.mode Off, or no destination.list. */
  driftDisabled?: 'Off' | 'NotConfigured' | undefined;
  /** With spec.webhook: its spec and the intake's figures. */
  webhook?: { spec: WebhookSpec; view: IntakeView } | undefined;
  /** The status being written, for the outcome of the last sync, drift check and quarantine. */
  status: Pick<
    IntegrationStatus,
    | 'lastSync'
    | 'lastSuccessfulSyncTime'
    | 'quarantine'
    | 'deprecation'
    | 'drift'
    | 'lastDriftCheck'
    | 'nextDriftCheckTime'
    | 'history'
    | 'volumeBaselineSince'
    | 'schemaChanges'
    | 'webhook'
  >;
}

/** The conditions, and when Stale will flip if nothing else happens first. */
export interface Summary {
  /** Every condition, sorted (Ready, Reconciling, Stalled, then by type). */
  conditions: Condition[];
  /** When Stale turns True if no sync succeeds first; undefined when it cannot or already did. */
  staleAt: Date | undefined;
}

/** Computes every condition of an Integration from its causes and observed facts. */
export function summarize(input: SummaryInput): Summary {
  const { context, observed } = input;
  const stall = stallsByImportance(input.causes)[0];
  const progress = input.causes.find((cause): cause is ProgressCause => !isStall(cause));
  const stalled = stall && explain(stall);
  const working = reconciling(stalled, progress && explain(progress), observed?.suspended);
  let conditions = stalled
    ? markStalled(input.previous, stalled, context)
    : working
      ? markReconciling(input.previous, working, context)
      : markSettled(input.previous);
  if (observed === undefined) {
    const ready = stalled && notReady(stalled.reason, stalled.message);
    return {
      conditions: ready ? setCondition(conditions, ready, context) : conditions,
      staleAt: undefined,
    };
  }
  const facts = { ...observed, now: context.now, stalled, progress: progress && explain(progress) };
  const synced = syncedCondition(facts);
  const { stale, staleAt } = staleCondition(facts);
  const degraded = degradedCondition(facts);
  const drifted = driftedCondition(facts);
  const volume = volumeCondition({ policy: facts.policy?.volume, status: facts.status });
  const ready = readyCondition(facts, synced, stale, [drifted, degraded, volume]);
  for (const change of [
    synced,
    drifted,
    stale,
    degraded,
    volume,
    deprecatedCondition(facts),
    suspendedCondition(facts),
    schemaChangedCondition(facts),
    ready,
  ]) {
    conditions = setCondition(conditions, change, context);
  }
  conditions = withWebhookConditions(conditions, facts, context);
  // kstatus reads Ready=True beside Reconciling=True as InProgress: a routine sync of fresh
  // data is not work a human or a GitOps tool should wait on (status.activeRun shows it).
  if (ready.status === 'True') conditions = removeCondition(conditions, ConditionType.Reconciling);
  return { conditions, staleAt };
}

/**
 * Reconciling, as kstatus reads it (InProgress): work the operator will finish by itself. Not
 * while Stalled (a human must act first), not while Ready (see summarize), and while suspended
 * only for a run still going.
 */
function reconciling(
  stalled: Explanation | undefined,
  progress: Explanation | undefined,
  suspended: boolean | undefined,
): Explanation | undefined {
  if (stalled !== undefined) return undefined;
  if (suspended === true && progress?.reason !== Reason.Progressing) return undefined;
  return progress;
}

function notReady(reason: Reason, message: string): ConditionChange {
  return { type: ConditionType.Ready, status: 'False', reason, message };
}

/**
 * Ready means the data is flowing; False carries the most important problem. A failed attempt
 * that is retried while the data is still fresh keeps Ready=True beside Synced=False (the
 * Crossplane split): a blip must not page; Stale will, if the retries do not catch up.
 */
function readyCondition(
  input: Facts,
  synced: ConditionChange,
  stale: ConditionChange,
  problems: readonly ConditionChange[],
): ConditionChange {
  if (input.stalled) return notReady(input.stalled.reason, input.stalled.message);
  const { progress } = input;
  if (synced.status === 'Unknown')
    return notReady(progress?.reason ?? synced.reason, progress?.message ?? synced.message);
  const fresh = stale.status !== 'True' && input.status.lastSuccessfulSyncTime !== undefined;
  const next = progress ? `; ${progress.message}` : '';
  if (synced.status === 'False' && !fresh)
    return notReady(synced.reason, `${synced.message}${next}`);
  for (const problem of [stale, ...problems]) {
    if (problem.status === 'True') return notReady(problem.reason, problem.message);
  }
  if (synced.status === 'False') {
    return {
      type: ConditionType.Ready,
      status: 'True',
      reason: progress?.reason ?? Reason.RetryScheduled,
      message: `data is fresh (last successful sync at ${input.status.lastSuccessfulSyncTime ?? ''}) but the last ${synced.message}${next}`,
    };
  }
  return {
    type: ConditionType.Ready,
    status: 'True',
    reason: synced.reason,
    message: synced.message,
  };
}

const WEBHOOK_CONDITIONS = [
  ConditionType.WebhookSilent,
  ConditionType.EventsMissed,
  ConditionType.WebhookRejecting,
] as const;

/** The webhook conditions with spec.webhook (they do not affect Ready); none without it. */
function withWebhookConditions(
  conditions: Condition[],
  facts: ObservedSummary & { now: Date },
  context: ConditionContext,
): Condition[] {
  const { webhook, status } = facts;
  if (webhook === undefined || status.webhook === undefined) {
    return WEBHOOK_CONDITIONS.reduce((all, type) => removeCondition(all, type), conditions);
  }
  const changes = webhookConditions(webhook.spec, status.webhook, webhook.view, facts.now);
  return changes.reduce((all, change) => setCondition(all, change, context), conditions);
}
