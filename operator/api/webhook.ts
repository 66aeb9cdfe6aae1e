/**
 * `Integration.spec.webhook` and `status.webhook`: taking the provider's webhooks as well as
 * polling, and the contract between the intake (`tributary intake`) and the operator: the
 * per-Integration figures the intake serves on `GET /stats`, which the operator folds into
 * status. Secret values never appear here: only references to the signing secrets.
 */
import { z } from 'zod';
import { SecretKeyRef, timestamp } from './common.ts';
import { duration, jsonPath, parseDuration } from './formats.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** How deliveries are signed: the provider's scheme. */
export const WebhookScheme = z
  .enum(['stripe', 'shopify', 'github', 'standard'])
  .describe(
    'How deliveries are signed: stripe (Stripe-Signature), shopify (X-Shopify-Hmac-Sha256), ' +
      'github (X-Hub-Signature-256) or standard (Standard Webhooks: webhook-signature).',
  );
/** How deliveries are signed. */
export type WebhookScheme = z.infer<typeof WebhookScheme>;

/** What a verified delivery writes. */
export const WebhookMode = z
  .enum(['fetch', 'payload'])
  .describe(
    "fetch re-reads the event's object from the source by id before writing (the current " +
      'version, whatever the order of deliveries); payload writes the object the event carries, ' +
      'never over a newer version. Default: fetch for stripe and shopify, payload otherwise.',
  );
/** What a verified delivery writes. */
export type WebhookMode = z.infer<typeof WebhookMode>;

/** Default of `spec.webhook.tolerance`. */
export const DEFAULT_WEBHOOK_TOLERANCE = '5m';
/** Default of `spec.webhook.silence.window`. */
export const DEFAULT_SILENCE_WINDOW = '6h';

/** `spec.webhook`: take the provider's webhooks as well as polling. */
export const WebhookSpec = z
  .strictObject({
    scheme: WebhookScheme,
    secretRefs: z
      .array(SecretKeyRef)
      .min(1)
      .max(3)
      .describe(
        'The signing secrets, 1 to 3: a delivery is accepted when any of them verifies it, so ' +
          'a secret is rotated by adding the new one, switching the sender, then removing the ' +
          'old one. Standard Webhooks secrets keep their whsec_ prefix.',
      ),
    tolerance: duration({ min: 10 * SECOND, max: HOUR })
      .optional()
      .describe(
        'How far a signed timestamp may be from now (stripe, standard); older or newer ' +
          `deliveries are refused with 401. Default: ${DEFAULT_WEBHOOK_TOLERANCE}.`,
      ),
    eventTypes: z
      .array(z.string().min(1).max(128).describe('An event type, e.g. customer.updated.'))
      .max(64)
      .optional()
      .describe(
        'Only these event types are stored and applied; others are answered 200 and counted ' +
          'as ignored. Default: every type.',
      ),
    mode: WebhookMode.optional(),
    objectPath: jsonPath()
      .optional()
      .describe(
        "Where the event's object is in the body, for payload mode: default data.object " +
          '(stripe), the body (shopify), data (standard), the field named by the event ' +
          '(github: issues → issue).',
      ),
    silence: z
      .strictObject({
        window: duration({ min: MINUTE, max: 30 * 24 * HOUR })
          .optional()
          .describe(`Default: ${DEFAULT_SILENCE_WINDOW}.`),
      })
      .optional()
      .describe(
        'WebhookSilent=True when no verified delivery arrived for this long while the source ' +
          'changed (a poll found changes); a quiet source raises nothing.',
      ),
  })
  .describe(
    "Take the provider's webhooks as well as polling: the intake verifies, stores and then " +
      'acknowledges each delivery, applies it through the same idempotent writer as the sync, ' +
      'and the sync keeps running as the safety net that finds and backfills missed events ' +
      '(docs/webhooks.md).',
  );
/** `spec.webhook`. */
export type WebhookSpec = z.infer<typeof WebhookSpec>;

/** What {@link webhookMode} reads of `spec.source`. */
interface FetchableSource {
  provider: string;
  http?: { itemPath?: string | undefined } | undefined;
}

/** True when the source can re-read one record by id (what fetch mode needs). */
export function canFetchById(source: FetchableSource | undefined): boolean {
  if (source === undefined) return false;
  return source.provider !== 'http' || source.http?.itemPath !== undefined;
}

/**
 * The mode a webhook runs in: its own, or the default: fetch for stripe and shopify when the
 * source can re-read by id, payload otherwise.
 */
export function webhookMode(
  webhook: Pick<WebhookSpec, 'scheme' | 'mode'>,
  source: FetchableSource | undefined,
): WebhookMode {
  if (webhook.mode !== undefined) return webhook.mode;
  const fetches = ['stripe', 'shopify'].includes(webhook.scheme) && canFetchById(source);
  return fetches ? 'fetch' : 'payload';
}

/** The path the intake serves an Integration's deliveries on. */
export function webhookRoute(namespace: string, name: string): string {
  return `/hooks/${namespace}/${name}`;
}

const count = (what: string) => z.int().min(0).describe(what);

/** The figures of one Integration's deliveries, as one intake store holds them. */
export const WebhookCounts = z.strictObject({
  accepted: count('Verified deliveries stored (duplicates not included).'),
  duplicate: count('Deliveries answered 200 because the same delivery id was stored before.'),
  rejected: count('Deliveries refused: bad or missing signature, timestamp out of tolerance.'),
  ignored: count('Verified deliveries of an event type outside eventTypes (not stored).'),
  pending: count('Stored deliveries not yet applied.'),
  deadLettered: count(
    'Deliveries that failed every attempt; tributary.dev/webhook-redrive-requested-at retries them.',
  ),
});
/** The figures of one Integration's deliveries. */
export type WebhookCounts = z.infer<typeof WebhookCounts>;

/** What one intake store says about one Integration (an element of {@link IntakeStats}). */
export const IntakeIntegrationStats = WebhookCounts.extend({
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  lastEventTime: timestamp().optional(),
  lastEventId: z.string().max(256).optional(),
  oldestPendingTime: timestamp().optional(),
  recentAccepted: count('Verified deliveries in the last 15 minutes.'),
  recentRejected: count('Refused deliveries in the last 15 minutes.'),
  lastRejection: z.string().max(256).optional(),
  lastHandledRedriveRequest: z.string().max(256).optional(),
});
/** What one intake store says about one Integration. */
export type IntakeIntegrationStats = z.infer<typeof IntakeIntegrationStats>;

/**
 * The body of the intake's `GET /stats`: its store's identity (replicas sharing one store, such as
 * NATS JetStream, answer the same `store`, so the operator counts each store once) and the
 * figures of every Integration it holds deliveries for.
 */
export const IntakeStats = z.strictObject({
  version: z.literal('tributary.dev/intake-stats/v1'),
  store: z.string().min(1).max(256),
  engine: z.enum(['sqlite', 'jetstream']),
  integrations: z.array(IntakeIntegrationStats),
});
/** The body of the intake's `GET /stats`. */
export type IntakeStats = z.infer<typeof IntakeStats>;

/** `status.webhook`: what the intake did with the deliveries, as the operator last read it. */
export const WebhookStatus = WebhookCounts.extend({
  route: z.string().max(512).describe('Where the sender posts: /hooks/{namespace}/{name}.'),
  observedTime: timestamp().describe('When the operator last read these figures from the intake.'),
  lastEventTime: timestamp().optional().describe('When the last verified delivery arrived.'),
  lastEventId: z.string().max(256).optional().describe('Id of the last verified delivery.'),
  oldestPendingTime: timestamp()
    .optional()
    .describe('Arrival of the oldest delivery not yet applied (its age: now minus this).'),
  missed: count('Changes a poll found that no delivery carried, since the webhook was set up.'),
  missedSamples: z
    .array(z.string().max(256))
    .max(10)
    .optional()
    .describe(
      'Ids of records the last pass found changed without a delivery (for Stripe: event ids).',
    ),
  lastHandledRedriveRequest: z
    .string()
    .max(256)
    .optional()
    .describe('The last tributary.dev/webhook-redrive-requested-at value the intake acted on.'),
  since: timestamp().describe(
    'When the operator first saw spec.webhook: silence and missed changes count from here.',
  ),
  lastSourceChangeTime: timestamp()
    .optional()
    .describe(
      'Completion of the last pass that found source records changed since the one before.',
    ),
  endpointDisabled: z
    .boolean()
    .optional()
    .describe(
      "Whether the provider's endpoint posting to the route was disabled at the last pass " +
        '(Stripe lists it); absent when not known.',
    ),
  lastGapCheck: z
    .strictObject({
      time: timestamp().describe('Completion of the pass.'),
      changed: count('Records it judged: changed since the pass before, older than the grace.'),
      missed: count('Of those, the ones no delivery carried; the pass wrote them (backfill).'),
      unavailable: z
        .string()
        .max(512)
        .optional()
        .describe('Why an intake could not be asked: the missed count is not certain.'),
    })
    .optional()
    .describe('What the last sync pass found comparing its changes with the deliveries.'),
}).describe("The webhook's deliveries: counts, the last event, the oldest pending delivery.");
/** `status.webhook`. */
export type WebhookStatus = z.infer<typeof WebhookStatus>;

/** Re-drives the dead-lettered deliveries of an Integration once per new value. */
export const WEBHOOK_REDRIVE_ANNOTATION = 'tributary.dev/webhook-redrive-requested-at';

/** Tolerance in ms of the webhook's signed timestamps. */
export function webhookToleranceMs(webhook: Pick<WebhookSpec, 'tolerance'>): number {
  return parseDuration(webhook.tolerance ?? DEFAULT_WEBHOOK_TOLERANCE) ?? 5 * MINUTE;
}

/** The silence window of the webhook in ms. */
export function silenceWindowMs(webhook: Pick<WebhookSpec, 'silence'>): number {
  return parseDuration(webhook.silence?.window ?? DEFAULT_SILENCE_WINDOW) ?? 6 * HOUR;
}
