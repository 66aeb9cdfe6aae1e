/**
 * The webhook's part of an Integration's status, pure: the intake's figures summed over its
 * stores (aggregateStats), folded with what the sync passes found (gap detection) into
 * status.webhook, and the three conditions read from it — WebhookSilent (nothing verified arrived
 * for silence.window while the source changed), EventsMissed (the last pass found changes no
 * delivery carried) and WebhookRejecting (most recent deliveries failed verification).
 */
import {
  ConditionType,
  Reason,
  silenceWindowMs,
  webhookRoute,
  type IntakeIntegrationStats,
  type IntakeStats,
  type RunResult,
  type WebhookCounts,
  type WebhookSpec,
  type WebhookStatus,
} from '../../api/index.ts';
import { formatDuration } from '../../api/formats.ts';
import { rfc3339 } from '../../lib/time.ts';
import type { ConditionChange } from '../plan/conditions.ts';

/** One Integration's figures over every intake store, as the operator last read them. */
export interface IntakeObservation extends WebhookCounts {
  namespace: string;
  name: string;
  uid: string;
  observedTime: number;
  lastEventTime?: string | undefined;
  lastEventId?: string | undefined;
  oldestPendingTime?: string | undefined;
  recentAccepted: number;
  recentRejected: number;
  lastRejection?: string | undefined;
  lastHandledRedriveRequest?: string | undefined;
  /** Replicas that could not be read: the figures are partial. */
  partial?: string | undefined;
}

/** What the intake poll found: the figures, or why there are none. */
export interface IntakeView {
  observation: IntakeObservation | undefined;
  /** Set when no intake replica could be read (none found, or all failed). */
  problem: string | undefined;
}

const COUNTS = ['accepted', 'duplicate', 'rejected', 'ignored', 'pending', 'deadLettered'] as const;

type Answer = { url: string; stats: IntakeStats } | { url: string; error: string };

const later = (a: string | undefined, b: string | undefined) =>
  a === undefined || (b !== undefined && b > a) ? b : a;
const earlier = (a: string | undefined, b: string | undefined) =>
  a === undefined || (b !== undefined && b < a) ? b : a;

/** Sums each Integration's figures over the stores that answered, each store once. */
export function aggregateStats(
  answers: readonly Answer[],
  now: number,
): Map<string, IntakeObservation> {
  const stores = new Set<string>();
  const failed = answers.flatMap((a) => ('error' in a ? [`${a.url}: ${a.error}`] : []));
  const partial = failed.length > 0 ? failed.join('; ').slice(0, 512) : undefined;
  const byUID = new Map<string, IntakeObservation>();
  for (const answer of answers) {
    if ('error' in answer || stores.has(answer.stats.store)) continue;
    stores.add(answer.stats.store);
    for (const row of answer.stats.integrations)
      byUID.set(row.uid, add(byUID.get(row.uid), row, now, partial));
  }
  return byUID;
}

function add(
  sum: IntakeObservation | undefined,
  row: IntakeIntegrationStats,
  now: number,
  partial: string | undefined,
): IntakeObservation {
  const base: IntakeObservation = sum ?? {
    namespace: row.namespace,
    name: row.name,
    uid: row.uid,
    observedTime: now,
    accepted: 0,
    duplicate: 0,
    rejected: 0,
    ignored: 0,
    pending: 0,
    deadLettered: 0,
    recentAccepted: 0,
    recentRejected: 0,
    ...(partial === undefined ? {} : { partial }),
  };
  const out = { ...base };
  for (const key of COUNTS) out[key] += row[key];
  out.recentAccepted += row.recentAccepted;
  out.recentRejected += row.recentRejected;
  if (later(out.lastEventTime, row.lastEventTime) !== out.lastEventTime) {
    out.lastEventTime = row.lastEventTime;
    out.lastEventId = row.lastEventId;
  }
  out.oldestPendingTime = earlier(out.oldestPendingTime, row.oldestPendingTime);
  out.lastRejection ??= row.lastRejection;
  out.lastHandledRedriveRequest = later(
    out.lastHandledRedriveRequest,
    row.lastHandledRedriveRequest,
  );
  return out;
}

/** What status.webhook is computed from. */
export interface WebhookInput {
  namespace: string;
  name: string;
  previous: WebhookStatus | undefined;
  view: IntakeView;
  /** Results of the syncs that finished since the last status write, newest first. */
  finished: readonly { completionTime: string | undefined; result: RunResult | undefined }[];
  now: Date;
}

/** status.webhook: the intake's figures, the gap checks folded in. */
export function webhookStatus(input: WebhookInput): WebhookStatus {
  const { previous, view, now } = input;
  const observed = view.observation;
  const counts = Object.fromEntries(
    COUNTS.map((key) => [key, observed?.[key] ?? previous?.[key] ?? 0]),
  ) as WebhookCounts;
  const status: WebhookStatus = {
    ...previous,
    ...counts,
    route: webhookRoute(input.namespace, input.name),
    observedTime:
      observed === undefined
        ? (previous?.observedTime ?? rfc3339(now))
        : rfc3339(new Date(observed.observedTime)),
    since: previous?.since ?? rfc3339(now),
    missed: previous?.missed ?? 0,
  };
  if (observed !== undefined) {
    const { lastEventTime, lastEventId, oldestPendingTime, lastHandledRedriveRequest } = observed;
    Object.assign(status, {
      lastEventTime,
      lastEventId,
      oldestPendingTime,
      lastHandledRedriveRequest,
    });
  }
  for (const run of [...input.finished].reverse())
    foldGapCheck(status, run.result?.webhook, run.completionTime);
  const defined = Object.entries(status).filter((entry) => (entry[1] as unknown) !== undefined);
  return Object.fromEntries(defined) as WebhookStatus;
}

/** Adds one pass's gap check to status. */
function foldGapCheck(
  status: WebhookStatus,
  gap: RunResult['webhook'],
  completion: string | undefined,
): void {
  if (gap === undefined || completion === undefined) return;
  status.missed += gap.missed;
  status.lastGapCheck = {
    time: completion,
    changed: gap.changed,
    missed: gap.missed,
    ...(gap.unavailable ? { unavailable: gap.unavailable } : {}),
  };
  if (gap.missed > 0 && gap.missedSamples) status.missedSamples = gap.missedSamples;
  else if (gap.missed === 0) delete status.missedSamples;
  if (gap.changed > 0) status.lastSourceChangeTime = completion;
  if (gap.endpointDisabled === undefined) delete status.endpointDisabled;
  else status.endpointDisabled = gap.endpointDisabled;
}

/** The three webhook conditions. */
export function webhookConditions(
  spec: WebhookSpec,
  status: WebhookStatus,
  view: IntakeView,
  now: Date,
): ConditionChange[] {
  return [
    silentCondition(spec, status, view, now),
    missedCondition(status),
    rejectingCondition(status, view),
  ];
}

function silentCondition(
  spec: WebhookSpec,
  status: WebhookStatus,
  view: IntakeView,
  now: Date,
): ConditionChange {
  const type = ConditionType.WebhookSilent;
  const windowMs = silenceWindowMs(spec);
  const window = formatDuration(windowMs);
  if (status.endpointDisabled === true) {
    return {
      type,
      status: 'True',
      reason: Reason.EndpointDisabled,
      message: `the provider reports its webhook endpoint for ${status.route} disabled (at the pass of ${status.lastGapCheck?.time ?? 'unknown time'}): re-enable it in the Stripe dashboard (Developers → Webhooks); the syncs keep backfilling meanwhile`,
    };
  }
  if (view.observation === undefined && view.problem !== undefined) {
    return {
      type,
      status: 'Unknown',
      reason: Reason.IntakeUnavailable,
      message: `the intake's figures cannot be read: ${view.problem}`,
    };
  }
  const lastEvent =
    status.lastEventTime === undefined ? undefined : Date.parse(status.lastEventTime);
  const windowStart = now.getTime() - windowMs;
  if (lastEvent !== undefined && lastEvent >= windowStart) {
    return {
      type,
      status: 'False',
      reason: Reason.DeliveriesArriving,
      message: `the last verified delivery arrived at ${status.lastEventTime ?? ''}`,
    };
  }
  const changed =
    status.lastSourceChangeTime === undefined ? undefined : Date.parse(status.lastSourceChangeTime);
  const watchedLongEnough = Date.parse(status.since) <= windowStart;
  if (changed === undefined || changed < windowStart || !watchedLongEnough) {
    return {
      type,
      status: 'False',
      reason: Reason.SourceQuiet,
      message: `no delivery within ${window}, and no pass found the source changing in that time`,
    };
  }
  const last =
    status.lastEventTime === undefined
      ? 'no verified delivery ever arrived'
      : `the last verified delivery arrived at ${status.lastEventTime}`;
  return {
    type,
    status: 'True',
    reason: Reason.NoDeliveries,
    message: `${last}, but the pass at ${status.lastSourceChangeTime ?? ''} found source changes: check the provider's webhook endpoint (it may be disabled or failing), the intake's Ingress and its logs; the syncs keep backfilling meanwhile`,
  };
}

function missedCondition(status: WebhookStatus): ConditionChange {
  const type = ConditionType.EventsMissed;
  const check = status.lastGapCheck;
  if (check === undefined)
    return {
      type,
      status: 'Unknown',
      reason: Reason.AwaitingFirstRun,
      message: 'no sync pass has compared its changes with the deliveries yet',
    };
  if (check.unavailable !== undefined) {
    return {
      type,
      status: 'Unknown',
      reason: Reason.IntakeUnavailable,
      message: `the pass at ${check.time} could not ask the intake: ${check.unavailable}`,
    };
  }
  if (check.missed === 0) {
    return {
      type,
      status: 'False',
      reason: Reason.NoMissedEvents,
      message: `every one of the ${check.changed} changes the pass at ${check.time} judged had arrived as a delivery`,
    };
  }
  const samples = status.missedSamples?.length ? ` (e.g. ${status.missedSamples.join(', ')})` : '';
  return {
    type,
    status: 'True',
    reason: Reason.ChangesWithoutDelivery,
    message: `the pass at ${check.time} found ${check.missed} of ${check.changed} changes that no delivery carried${samples}; it wrote them (backfill). Check the provider's delivery log for failures; ${status.missed} missed since ${status.since}`,
  };
}

/** Most of at least this many recent deliveries refused: WebhookRejecting. */
const MIN_RECENT = 5;

function rejectingCondition(status: WebhookStatus, view: IntakeView): ConditionChange {
  const type = ConditionType.WebhookRejecting;
  const o = view.observation;
  const total = (o?.recentAccepted ?? 0) + (o?.recentRejected ?? 0);
  if (o !== undefined && total >= MIN_RECENT && o.recentRejected * 2 > total) {
    const why = o.lastRejection === undefined ? '' : ` (last: ${o.lastRejection})`;
    return {
      type,
      status: 'True',
      reason: Reason.SignaturesRejected,
      message: `${o.recentRejected} of the last ${total} deliveries in 15 minutes were refused${why}: if a signing secret was rotated, list both in spec.webhook.secretRefs until the sender uses the new one`,
    };
  }
  return {
    type,
    status: 'False',
    reason: Reason.SignaturesVerified,
    message: `${status.rejected} deliveries refused in all; recent ones verify`,
  };
}

/**
 * When WebhookSilent turns by time alone, after `now`: the silence window running out since the
 * last delivery (or the set-up), and a pass's source change leaving the window.
 */
export function webhookWakeups(
  spec: WebhookSpec | undefined,
  status: WebhookStatus | undefined,
  now: Date,
): Date[] {
  if (spec === undefined || status === undefined) return [];
  const windowMs = silenceWindowMs(spec);
  const from = [status.lastEventTime ?? status.since, status.since, status.lastSourceChangeTime];
  return from
    .flatMap((time) => (time === undefined ? [] : [new Date(Date.parse(time) + windowMs + 1000)]))
    .filter((time) => time.getTime() > now.getTime());
}
