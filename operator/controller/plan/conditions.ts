/**
 * Condition helpers in the manner of fluxcd/pkg/runtime/conditions: pure functions over a list of
 * metav1.Condition values that return new lists, stamp observedGeneration, move
 * lastTransitionTime only on a real change, and keep a stable order (Ready, Reconciling, Stalled,
 * then the others alphabetically) so that an unchanged status serializes identically.
 */
import { ConditionType, type Condition, type Reason } from '../../api/index.ts';
import { rfc3339 } from '../../lib/time.ts';

/** What a caller decides about one condition; the helpers add the bookkeeping fields. */
export interface ConditionChange {
  /** The condition type, e.g. Ready. */
  type: ConditionType;
  /** True, False or Unknown. */
  status: Condition['status'];
  /** CamelCase reason from the one Reason module. */
  reason: Reason;
  /** What happened and what to do, for humans. */
  message: string;
}

/** The context a condition is computed in. */
export interface ConditionContext {
  /** metadata.generation of the object the condition describes. */
  generation: number | undefined;
  /** The current time: the lastTransitionTime of a condition that changes. */
  now: Date;
}

/** The conditions of a status, read-only; `undefined` when the status has none yet. */
export type Conditions = readonly Condition[] | undefined;

const LEADING: readonly string[] = [
  ConditionType.Ready,
  ConditionType.Reconciling,
  ConditionType.Stalled,
];

/**
 * Sets one condition and returns the new, sorted list. lastTransitionTime is kept when status,
 * reason and message are all unchanged, and set to `now` otherwise; observedGeneration is
 * stamped either way.
 */
export function setCondition(
  conditions: Conditions,
  change: ConditionChange,
  context: ConditionContext,
): Condition[] {
  const existing = getCondition(conditions, change.type);
  const unchanged =
    existing !== undefined &&
    existing.status === change.status &&
    existing.reason === change.reason &&
    existing.message === change.message;
  const condition: Condition = {
    type: change.type,
    status: change.status,
    ...(context.generation === undefined ? {} : { observedGeneration: context.generation }),
    lastTransitionTime: unchanged ? existing.lastTransitionTime : rfc3339(context.now),
    reason: change.reason,
    message: change.message,
  };
  return sortConditions([...removeCondition(conditions, change.type), condition]);
}

/** Returns the list without the condition of `type` (abnormal-true conditions that are false). */
export function removeCondition(conditions: Conditions, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}

/** The condition of `type`, if present. */
export function getCondition(conditions: Conditions, type: string): Condition | undefined {
  return (conditions ?? []).find((condition) => condition.type === type);
}

/** True when the condition of `type` is present with status True. */
export function isTrue(conditions: Conditions, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/** A sorted copy: Ready, Reconciling, Stalled first, then the others by type. */
export function sortConditions(conditions: Conditions): Condition[] {
  const rank = (type: string) => {
    const index = LEADING.indexOf(type);
    return index === -1 ? LEADING.length : index;
  };
  return [...(conditions ?? [])].sort(
    (a, b) => rank(a.type) - rank(b.type) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
  );
}

/**
 * True when both lists hold the same conditions in the same order with every field equal: the
 * "did anything change" check before a status write. Absent and empty lists are equal.
 */
export function conditionsEqual(a: Conditions, b: Conditions): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return left.length === right.length && left.every((c, i) => sameCondition(c, right[i]));
}

/** Every field of both, compared by value (condition fields are all primitives). */
function sameCondition(a: Condition, b: Condition | undefined): boolean {
  if (b === undefined) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].every((key) => left[key] === right[key]);
}

/** Why a kstatus condition is set: the reason and message it carries. */
export interface Why {
  /** CamelCase reason from the one Reason module. */
  reason: Reason;
  /** What happened and what to do, for humans. */
  message: string;
}

/**
 * Sets Stalled=True and removes Reconciling: kstatus reads both at once as contradictory, and
 * a stall (a human must act) wins over progress.
 */
export function markStalled(
  conditions: Conditions,
  why: Why,
  context: ConditionContext,
): Condition[] {
  const stalled = { type: ConditionType.Stalled, status: 'True' as const, ...why };
  return removeCondition(setCondition(conditions, stalled, context), ConditionType.Reconciling);
}

/** Sets Reconciling=True and removes Stalled: work the operator finishes by itself. */
export function markReconciling(
  conditions: Conditions,
  why: Why,
  context: ConditionContext,
): Condition[] {
  const reconciling = { type: ConditionType.Reconciling, status: 'True' as const, ...why };
  return removeCondition(setCondition(conditions, reconciling, context), ConditionType.Stalled);
}

/** Removes Reconciling and Stalled: nothing in progress and nothing stalled. */
export function markSettled(conditions: Conditions): Condition[] {
  return removeCondition(
    removeCondition(conditions, ConditionType.Reconciling),
    ConditionType.Stalled,
  );
}
