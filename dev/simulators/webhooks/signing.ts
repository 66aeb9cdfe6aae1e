/**
 * The four providers' signature schemes, written from their documentation in node:crypto — not
 * with the verifying libraries, so a sender and the intake's verifier are two implementations that
 * must agree (test/unit/simulators/webhooks.test.ts checks both against the libraries' signers).
 */
import { createHmac } from 'node:crypto';

const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text);

/** `Stripe-Signature`: `t=<seconds>` and one `v1=<hex>` of `"{t}.{body}"` per secret (whole `whsec_…` string as the key). */
export function stripeSignature(
  body: string,
  secrets: readonly string[],
  timestamp: number,
): string {
  const v1 = secrets.map((secret) => `v1=${hmac(secret, `${timestamp}.${body}`).digest('hex')}`);
  return [`t=${timestamp}`, ...v1].join(',');
}

/** `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the body. */
export function shopifySignature(body: string, secret: string): string {
  return hmac(secret, body).digest('base64');
}

/** `X-Hub-Signature-256`: `sha256=<hex>` HMAC-SHA256 of the body. */
export function githubSignature(body: string, secret: string): string {
  return `sha256=${hmac(secret, body).digest('hex')}`;
}

/** The HMAC key of a Standard Webhooks secret: the base64 after an optional `whsec_`. */
export function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** `webhook-signature`: one `v1,<base64>` of `"{id}.{timestamp}.{body}"` per secret, space-separated. */
export function standardSignature(
  id: string,
  timestamp: number,
  body: string,
  secrets: readonly string[],
): string {
  return secrets
    .map(
      (secret) => `v1,${hmac(standardKey(secret), `${id}.${timestamp}.${body}`).digest('base64')}`,
    )
    .join(' ');
}
