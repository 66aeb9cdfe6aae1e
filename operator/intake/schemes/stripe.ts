/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of
 * `"{t}.{raw body}"` keyed with the whole `whsec_…` secret; several `v1` entries while Stripe rolls
 * a secret. The signature is checked by the `stripe` package itself (its constant-time compare and
 * tolerance); the header is parsed here first only to word a refusal precisely.
 */
import Stripe from 'stripe';
import {
  bodyId,
  headerOf,
  jsonObject,
  noSecretMatches,
  refuse,
  stringField,
  timestampProblem,
  type Verification,
  type VerifyInput,
} from './common.ts';

const HEADER = 'Stripe-Signature';

/** Verifies a Stripe delivery; id = the event's `id` (evt_…), eventType = its `type`. */
export function verifyStripe({ request, secrets, now, toleranceMs }: VerifyInput): Verification {
  const header = headerOf(request, 'stripe-signature');
  if (header === undefined) return refuse(`${HEADER} header missing`);
  const parsed = parseStripeHeader(header);
  if (parsed === undefined) return refuse(`${HEADER} header malformed: no t=<unix seconds>`);
  if (parsed.signatures === 0) return refuse(`${HEADER} header malformed: no v1= signature`);
  const signedAt = parsed.timestamp * 1000;
  const late = timestampProblem(signedAt, now, toleranceMs);
  if (late !== undefined) return refuse(`${HEADER} ${late}`);
  const accepted = secrets.some((secret) =>
    stripeAccepts(request.body, header, secret, toleranceMs, now),
  );
  if (!accepted) return refuse(noSecretMatches(`${HEADER} v1`, secrets.length));
  const event = jsonObject(request.body);
  return {
    ok: true,
    id: stringField(event, 'id') ?? bodyId(request.body),
    eventType: stringField(event, 'type') ?? '',
    signedAt,
  };
}

/** The header's timestamp and how many v1 signatures it carries, or undefined without a `t=`. */
function parseStripeHeader(header: string): { timestamp: number; signatures: number } | undefined {
  let timestamp: number | undefined;
  let signatures = 0;
  for (const item of header.split(',')) {
    const [key, value = ''] = item.trim().split('=', 2);
    if (key === 't' && /^[0-9]{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && value !== '') signatures += 1;
  }
  return timestamp === undefined ? undefined : { timestamp, signatures };
}

/** Whether Stripe's own verifier accepts the delivery with `secret`, at `now`. */
function stripeAccepts(
  body: Buffer,
  header: string,
  secret: string,
  toleranceMs: number,
  now: number,
): boolean {
  const signature = Stripe.webhooks.signature;
  if (signature === null) throw new Error('the stripe package has no webhook signature helper');
  try {
    // Tolerance in whole seconds, at least 1 (0 would switch Stripe's timestamp check off).
    const toleranceSeconds = Math.max(1, Math.floor(toleranceMs / 1000));
    return signature.verifyHeader(body, header, secret, toleranceSeconds, undefined, now);
  } catch {
    return false;
  }
}
