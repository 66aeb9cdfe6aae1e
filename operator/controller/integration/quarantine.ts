/**
 * The held quarantine: what status.quarantine keeps across passes. A sync's result reports the
 * records it newly quarantined and the held ones it released; the operator, the only writer of
 * this state (run pods mount no token), merges them: held + new − released, and a human's
 * acknowledgement drops everything held. Pure.
 */
import {
  QUARANTINE_ACKNOWLEDGED_ANNOTATION,
  type IntegrationStatus,
  type RunResult,
} from '../../api/index.ts';
import { pendingRequest } from '../plan/requests.ts';

/** Held records listed by id in status (retried by id by later syncs). */
export const QUARANTINE_LIST_CAP = 50;

/** status.quarantine. */
export type HeldQuarantine = NonNullable<IntegrationStatus['quarantine']>;
/** A listed held record. */
export type HeldRecord = NonNullable<HeldQuarantine['samples']>[number];
/** What one sync's result says about quarantine. */
export type PassQuarantine = NonNullable<RunResult['quarantine']>;

/**
 * The held quarantine after one sync pass finished at `time`: the released ids leave the list;
 * the new records join it (first seen at `time`) up to {@link QUARANTINE_LIST_CAP}, beyond which
 * they are counted only; a reason seen again is refreshed, its first-seen time kept. Held records
 * beyond the list are counted until a full pass, which saw every record, recounts them.
 */
export function mergeQuarantine(
  held: HeldQuarantine | undefined,
  pass: PassQuarantine | undefined,
  time: string,
): HeldQuarantine {
  const previous = held ?? { count: 0 };
  if (pass === undefined) return previous;
  const listed = previous.samples ?? [];
  // A result without `new` comes from a connector that knows nothing of held records: it reports
  // everything it quarantined, as a full pass does.
  const full = pass.full ?? pass.new === undefined;
  const beyond = full ? 0 : Math.max(0, previous.count - listed.length);
  const released = new Set(pass.released ?? []);
  const kept = new Map<string, HeldRecord>();
  for (const record of listed) if (!released.has(record.id)) kept.set(record.id, record);
  let unlisted = beyond;
  const samples = pass.samples ?? [];
  for (const { id, reason } of samples) {
    const known = kept.get(id);
    if (known !== undefined) kept.set(id, { ...known, reason });
    else if (kept.size < QUARANTINE_LIST_CAP) kept.set(id, { id, reason, firstSeen: time });
    else unlisted++;
  }
  unlisted += Math.max(0, (pass.new ?? pass.count) - samples.length);
  return heldOf([...kept.values()], unlisted);
}

/** The status form of `records` listed plus `unlisted` counted ones. */
function heldOf(records: HeldRecord[], unlisted: number): HeldQuarantine {
  const sorted = [...records].sort((a, b) => (a.firstSeen ?? '').localeCompare(b.firstSeen ?? ''));
  return {
    count: sorted.length + unlisted,
    ...(sorted.length > 0 ? { samples: sorted } : {}),
  };
}

/**
 * A new value of the acknowledgement annotation: everything held is dropped and the value is
 * echoed in status. Empty when there is none.
 */
export function quarantineAcknowledgement(
  annotations: Readonly<Record<string, string>>,
  status: Pick<IntegrationStatus, 'lastHandledQuarantineAcknowledgement'>,
): Pick<IntegrationStatus, 'quarantine' | 'lastHandledQuarantineAcknowledgement'> {
  const value = pendingRequest(
    annotations,
    QUARANTINE_ACKNOWLEDGED_ANNOTATION,
    status.lastHandledQuarantineAcknowledgement,
  );
  if (value === undefined) return {};
  return { lastHandledQuarantineAcknowledgement: value, quarantine: { count: 0 } };
}

/** The ids a sync retries: the listed held records. */
export function heldIds(held: HeldQuarantine | undefined): string[] {
  return (held?.samples ?? []).map((record) => record.id);
}
