/**
 * Webhook signature verification, one file per scheme: stripe (the `stripe` package), shopify
 * (node:crypto, the documented HMAC), github (the @octokit/webhooks-methods algorithm) and
 * standard (the `standardwebhooks` package). The intake calls {@link verifyDelivery} on the raw
 * body before parsing anything; a refusal's `problem` names what is wrong, never a secret.
 */
import type { WebhookScheme } from '../../api/webhook.ts';
import type { SignedRequest, Verification, VerifyInput } from './common.ts';
import { verifyGitHub } from './github.ts';
import { verifyShopify } from './shopify.ts';
import { verifyStandard } from './standard.ts';
import { verifyStripe } from './stripe.ts';

export type { SignedRequest, Verification } from './common.ts';

const verifiers: Record<WebhookScheme, (input: VerifyInput) => Verification> = {
  stripe: verifyStripe,
  shopify: verifyShopify,
  github: verifyGitHub,
  standard: verifyStandard,
};

/**
 * Verifies one delivery against every secret (1-3, for rotation): `ok` with the provider's id and
 * event type when any secret verifies it and a signed timestamp (stripe, standard) is within
 * `toleranceMs` of `now`; otherwise `ok: false` with the reason. A body that verifies but is not
 * JSON is still `ok` (id `sha256:<hex>` when no id is found, eventType `''`). Never throws for
 * anything a sender controls.
 */
export function verifyDelivery(
  scheme: WebhookScheme,
  request: SignedRequest,
  secrets: readonly string[],
  now: number,
  toleranceMs: number,
): Verification {
  if (secrets.length === 0) return { ok: false, problem: 'no signing secret is configured' };
  return verifiers[scheme]({ request, secrets, now, toleranceMs });
}

/** A {@link SignedRequest} over a plain header record (any case) and a body. */
export function signedRequest(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): SignedRequest {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      lower.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  }
  return { header: (name) => lower.get(name.toLowerCase()), body };
}
