/**
 * Standard Webhooks (Svix and others): `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature: v1,<base64>[ v1,<base64>…]`, HMAC-SHA256 of `"{id}.{timestamp}.{raw body}"`
 * keyed with the base64 part of a `whsec_…` secret. The `standardwebhooks` package computes the
 * signature (`Webhook.sign`); its `verify` reads the system clock with a fixed 5-minute window, so
 * the timestamp is checked here against the injected clock and tolerance, and each `v1` entry is
 * compared in constant time.
 */
import { Webhook } from 'standardwebhooks';
import {
  headerOf,
  jsonObject,
  noSecretMatches,
  refuse,
  sameDigest,
  stringField,
  timestampProblem,
  type Verification,
  type VerifyInput,
} from './common.ts';

/** Verifies a Standard Webhooks delivery; id = `webhook-id`, eventType = the body's `type`. */
export function verifyStandard({ request, secrets, now, toleranceMs }: VerifyInput): Verification {
  const id = headerOf(request, 'webhook-id');
  const timestamp = headerOf(request, 'webhook-timestamp');
  const signature = headerOf(request, 'webhook-signature');
  if (id === undefined) return refuse('webhook-id header missing');
  if (timestamp === undefined) return refuse('webhook-timestamp header missing');
  if (signature === undefined) return refuse('webhook-signature header missing');
  if (!/^[0-9]{1,12}$/.test(timestamp)) {
    return refuse('webhook-timestamp header malformed: expected unix seconds');
  }
  const signedAt = Number(timestamp) * 1000;
  const late = timestampProblem(signedAt, now, toleranceMs);
  if (late !== undefined) return refuse(`webhook-timestamp ${late}`);
  const given = v1Signatures(signature);
  if (given.length === 0) return refuse('webhook-signature header malformed: no v1,<base64> entry');
  const invalid: number[] = [];
  const accepted = secrets.some((secret, index) => {
    const expected = expectedSignature(secret, id, signedAt, request.body);
    if (expected === undefined) invalid.push(index + 1);
    return expected !== undefined && given.some((entry) => sameDigest(expected, entry));
  });
  if (!accepted) {
    const note =
      invalid.length === 0 ? '' : `; secret ${invalid.join(', ')} is not a whsec_ base64 key`;
    return refuse(noSecretMatches('webhook-signature', secrets.length) + note);
  }
  return { ok: true, id, eventType: stringField(jsonObject(request.body), 'type') ?? '', signedAt };
}

/** The decoded digests of the header's `v1,` entries (other versions, e.g. `v1a`, are skipped). */
function v1Signatures(header: string): Buffer[] {
  return header
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice(3))
    .filter((digest) => /^[A-Za-z0-9+/]+={0,2}$/.test(digest))
    .map((digest) => Buffer.from(digest, 'base64'));
}

/** The digest `secret` gives the delivery, or undefined when the secret is not a valid key. */
function expectedSignature(
  secret: string,
  id: string,
  signedAt: number,
  body: Buffer,
): Buffer | undefined {
  try {
    const signed = new Webhook(secret).sign(id, new Date(signedAt), body);
    return Buffer.from(signed.slice(signed.indexOf(',') + 1), 'base64');
  } catch {
    return undefined;
  }
}
