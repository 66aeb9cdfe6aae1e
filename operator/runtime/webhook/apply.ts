/**
 * Applies one stored delivery through the sync's own parts: the same provider (fetch mode
 * re-reads the record by id), the same contract check, the same record version and the same
 * idempotent destination writer, so a delivery and a poll of one change carry one idempotency
 * key (integration UID, record id, record version) and converge on one effect. A delivery older
 * than the version last applied through the inbox writes nothing.
 */
import type { AppliedVersion, ClaimedDelivery } from '../../api/inbox.ts';
import { webhookMode } from '../../api/webhook.ts';
import { eventObject } from '../../api/webhook-events.ts';
import type { RunParts } from '../connect.ts';
import { recordVersion } from '../destination.ts';
import { toSyncError } from '../errors.ts';
import { isObject, recordId, type JSONObject } from '../json.ts';
import type { IntegrationObject } from './ports.ts';
import { isNewerVersion } from '../../lib/versions.ts';

/** What became of one delivery. */
export type DeliveryOutcome =
  /** Written (or found already applied) at the destination. */
  | { kind: 'applied'; effect: 'written' | 'unchanged'; applied: AppliedVersion }
  /** Nothing to write: a stale version, a record deleted at the source, no webhook any more. */
  | { kind: 'skipped'; reason: string }
  /** This attempt failed; another may succeed. */
  | { kind: 'retry'; error: string; retryAfterMs?: number | undefined }
  /** It can never apply (not JSON, no object, a record the contract or destination refuses). */
  | { kind: 'dead'; error: string };

/** What {@link applyDelivery} works with. */
export interface ApplyContext {
  integration: IntegrationObject;
  parts: Pick<RunParts, 'provider' | 'writer' | 'validator'>;
  /** The newest version applied for a record id through the inbox, if any. */
  appliedVersion(recordId: string): Promise<string | undefined>;
}

/** The record a delivery stands for: from its payload, or re-read from the source. */
type Resolved =
  | { kind: 'record'; record: JSONObject; id: string }
  | Extract<DeliveryOutcome, { kind: 'skipped' | 'dead' | 'retry' }>;

/** Parses the body and finds the event's object and its id. */
function eventRecord(delivery: ClaimedDelivery, context: ApplyContext): Resolved {
  let body: unknown;
  try {
    body = JSON.parse(delivery.body);
  } catch {
    return { kind: 'dead', error: 'InvalidPayload: the verified body is not JSON' };
  }
  const webhook = context.integration.spec.webhook;
  const object = eventObject(delivery.scheme, body, delivery.eventType, webhook?.objectPath);
  if (object === undefined) {
    return {
      kind: 'dead',
      error: `InvalidPayload: no object in the ${delivery.eventType || 'event'} body`,
    };
  }
  const id = recordId(object, context.parts.provider.idField);
  if (id === undefined) {
    return {
      kind: 'dead',
      error: `InvalidPayload: the object has no ${context.parts.provider.idField}`,
    };
  }
  return { kind: 'record', record: object, id };
}

/** Fetch mode: the current record at the source, whatever version the event carried. */
async function fetchCurrent(id: string, context: ApplyContext): Promise<Resolved> {
  const fetchById = context.parts.provider.fetchById;
  if (fetchById === undefined)
    return { kind: 'dead', error: 'Configuration: the source cannot re-read records by id' };
  try {
    const item = await fetchById(id);
    if (item === undefined)
      return { kind: 'skipped', reason: `record ${id} no longer exists at the source` };
    if (!isObject(item.record))
      return { kind: 'dead', error: `InvalidRecord: ${id}: not a JSON object` };
    return { kind: 'record', record: item.record, id };
  } catch (error) {
    const failure = toSyncError(error);
    return {
      kind: 'retry',
      error: `${failure.code}: ${failure.message}`,
      retryAfterMs: failure.retryAfterMs,
    };
  }
}

/** Applies `delivery` to the destination; never throws for a failure of the delivery itself. */
export async function applyDelivery(
  delivery: ClaimedDelivery,
  context: ApplyContext,
): Promise<DeliveryOutcome> {
  const { spec } = context.integration;
  if (spec.webhook === undefined)
    return { kind: 'skipped', reason: 'the Integration no longer has a webhook' };
  let resolved = eventRecord(delivery, context);
  if (resolved.kind === 'record' && webhookMode(spec.webhook, spec.source) === 'fetch') {
    resolved = await fetchCurrent(resolved.id, context);
  }
  if (resolved.kind !== 'record') return resolved;
  return writeRecord(resolved.record, resolved.id, context);
}

/** Checks the contract and the version, then writes through the idempotent writer. */
async function writeRecord(
  record: JSONObject,
  id: string,
  context: ApplyContext,
): Promise<DeliveryOutcome> {
  const { provider, validator, writer } = context.parts;
  const problem = validator.check(record);
  if (problem !== undefined) return { kind: 'dead', error: `InvalidRecord: ${problem}` };
  const version = recordVersion(record, provider.updatedField);
  const applied = await context.appliedVersion(id);
  if (applied !== undefined && !isNewerVersion(version, applied)) {
    return {
      kind: 'skipped',
      reason: `version ${version} of ${id} is not newer than ${applied}, applied before`,
    };
  }
  try {
    const outcome = await writer.write(record, id, version);
    if (outcome.kind === 'quarantined') return { kind: 'dead', error: outcome.reason };
    return { kind: 'applied', effect: outcome.kind, applied: { recordId: id, version } };
  } catch (error) {
    const failure = toSyncError(error);
    return {
      kind: 'retry',
      error: `${failure.code}: ${failure.message}`,
      retryAfterMs: failure.retryAfterMs,
    };
  }
}
