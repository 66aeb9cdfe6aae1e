/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 of the raw body keyed with the app's
 * client secret (or the store's webhook signing key). No signed timestamp, so no tolerance: a
 * replay is caught by the delivery id. Shopify ships no Node verifier outside its app framework;
 * this is the documented algorithm in node:crypto.
 */
import { createHmac } from 'node:crypto';
import {
  bodyId,
  headerOf,
  noSecretMatches,
  refuse,
  sameDigest,
  type Verification,
  type VerifyInput,
} from './common.ts';

const HEADER = 'X-Shopify-Hmac-Sha256';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DIGEST_BYTES = 32;

/**
 * Verifies a Shopify delivery. id = `X-Shopify-Webhook-Id` (one per delivery, the same on every
 * retry: what Shopify tells receivers to dedupe on), else `X-Shopify-Event-Id`; eventType =
 * `X-Shopify-Topic` (`customers/update`).
 */
export function verifyShopify({ request, secrets }: VerifyInput): Verification {
  const header = headerOf(request, 'x-shopify-hmac-sha256');
  if (header === undefined) return refuse(`${HEADER} header missing`);
  if (!BASE64.test(header)) return refuse(`${HEADER} header malformed: not base64`);
  const given = Buffer.from(header, 'base64');
  if (given.length !== DIGEST_BYTES) {
    return refuse(
      `${HEADER} header malformed: a ${given.length}-byte digest, expected ${DIGEST_BYTES}`,
    );
  }
  const accepted = secrets.some((secret) =>
    sameDigest(createHmac('sha256', secret).update(request.body).digest(), given),
  );
  if (!accepted) return refuse(noSecretMatches(HEADER, secrets.length));
  return {
    ok: true,
    id:
      headerOf(request, 'x-shopify-webhook-id') ??
      headerOf(request, 'x-shopify-event-id') ??
      bodyId(request.body),
    eventType: headerOf(request, 'x-shopify-topic') ?? '',
  };
}
