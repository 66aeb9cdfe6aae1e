/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body keyed with the webhook
 * secret; no signed timestamp. The comparison is @octokit/webhooks-methods' `verify` done inline
 * (its `verify` is async and needs the body as a string; verifyDelivery is synchronous and hashes
 * the bytes): the same HMAC and timingSafeEqual, checked against octokit's own signer in the tests.
 */
import { createHmac } from 'node:crypto';
import {
  bodyId,
  headerOf,
  jsonObject,
  noSecretMatches,
  refuse,
  sameDigest,
  stringField,
  type Verification,
  type VerifyInput,
} from './common.ts';

const HEADER = 'X-Hub-Signature-256';
const HEX_DIGITS = 64;

/**
 * Verifies a GitHub delivery; id = `X-GitHub-Delivery` (kept by a redelivery), eventType =
 * `X-GitHub-Event` plus `.action` from the body when present (`issues.opened`).
 */
export function verifyGitHub({ request, secrets }: VerifyInput): Verification {
  const header = headerOf(request, 'x-hub-signature-256');
  if (header === undefined) {
    const sha1 = headerOf(request, 'x-hub-signature') !== undefined;
    return refuse(
      `${HEADER} header missing${sha1 ? ' (only the SHA-1 X-Hub-Signature was sent)' : ''}`,
    );
  }
  const match = /^sha256=([0-9a-fA-F]*)$/.exec(header);
  if (match === null) return refuse(`${HEADER} header malformed: expected sha256=<hex>`);
  const hex = match[1] ?? '';
  if (hex.length !== HEX_DIGITS) {
    return refuse(
      `${HEADER} header malformed: a ${hex.length}-digit digest, expected ${HEX_DIGITS}`,
    );
  }
  const given = Buffer.from(hex, 'hex');
  const accepted = secrets.some((secret) =>
    sameDigest(createHmac('sha256', secret).update(request.body).digest(), given),
  );
  if (!accepted) return refuse(noSecretMatches(HEADER, secrets.length));
  const event = headerOf(request, 'x-github-event') ?? '';
  const action = stringField(jsonObject(request.body), 'action');
  return {
    ok: true,
    id: headerOf(request, 'x-github-delivery') ?? bodyId(request.body),
    eventType: event !== '' && action !== undefined ? `${event}.${action}` : event,
  };
}
