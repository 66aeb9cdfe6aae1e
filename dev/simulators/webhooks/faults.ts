/**
 * Faults a test can set on a webhook sender, and the ones that change what one attempt sends
 * (applied after signing, as a broken proxy or an attacker would).
 */
import { randomBytes } from 'node:crypto';
import type { WebhookScheme } from '../../../operator/api/webhook.ts';
import { SIGNATURE_HEADER } from './envelope.ts';

/** What the sender does wrong, on purpose. Every field is off when absent. */
export interface WebhookFaults {
  /** Send each delivery `times` times (each copy retried on its own), optionally all at once and to each of `urls` (e.g. two intake replicas). */
  duplicate?: { times: number; concurrent?: boolean; urls?: readonly string[] };
  /** Hold deliveries until `batch` are waiting, then send them newest first. */
  reorder?: { batch: number };
  /** Wait this many ms (on the sender's clock, not scaled) before each attempt. */
  delay?: number;
  /** Sign with a timestamp this many ms in the past (Stripe, Standard; Shopify's X-Shopify-Triggered-At). */
  staleTimestamp?: number;
  /** Send nothing more; `stats().suppressed` counts the attempts that would have been made. */
  stop?: boolean;
  /** Flip one byte of the body after signing. */
  tamper?: boolean;
  /** Sign with a secret the receiver does not know. */
  wrongSecret?: boolean;
  /** Re-stringify the JSON body with other spacing after signing. */
  reserialize?: boolean;
  /** Leave a header out: `true` for the signature header, or a header name. */
  dropHeader?: true | string;
  /** Cut this many characters (`true`: 8) off the end of the signature header. */
  truncateSignature?: true | number;
}

/** A secret in the scheme's format that no receiver holds. */
export function wrongSecretFor(scheme: WebhookScheme): string {
  const key = randomBytes(24).toString('base64');
  return scheme === 'standard' || scheme === 'stripe' ? `whsec_${key}` : `wrong-${key}`;
}

/** The body's bytes with the after-signing faults applied. */
export function faultyBody(body: string, faults: WebhookFaults): Buffer {
  const text = faults.reserialize === true ? JSON.stringify(JSON.parse(body), null, 2) : body;
  const bytes = Buffer.from(text);
  if (faults.tamper === true) {
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  }
  return bytes;
}

/** The headers with the after-signing faults applied. */
export function faultyHeaders(
  scheme: WebhookScheme,
  headers: Record<string, string>,
  faults: WebhookFaults,
): Record<string, string> {
  const result = { ...headers };
  const signature = SIGNATURE_HEADER[scheme];
  if (faults.truncateSignature !== undefined) {
    const cut = faults.truncateSignature === true ? 8 : faults.truncateSignature;
    result[signature] = (result[signature] ?? '').slice(0, -cut);
  }
  if (faults.dropHeader !== undefined) {
    const name = faults.dropHeader === true ? signature : faults.dropHeader.toLowerCase();
    Reflect.deleteProperty(result, name);
  }
  return result;
}
