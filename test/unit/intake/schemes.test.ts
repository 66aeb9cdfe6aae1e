/**
 * verifyDelivery on every scheme: the documented test vectors, the libraries' own signers, and
 * every signature case of issue 13's acceptance (wrong secret, one tampered byte, a re-serialized
 * body, a missing header, a digest of the wrong length, a timestamp outside the tolerance,
 * rotation with two and three secrets). A refusal is a value, never a throw, and never names a
 * secret or a digest.
 */
import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { WebhookScheme } from '../../../operator/api/webhook.ts';
import {
  signedRequest,
  verifyDelivery,
  type Verification,
} from '../../../operator/intake/schemes/index.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const NOW_S = NOW / 1000;
const MINUTE = 60_000;
const TOLERANCE = 5 * MINUTE;

const verify = (
  scheme: WebhookScheme,
  headers: Record<string, string>,
  body: string | Buffer,
  secrets: readonly string[],
  now = NOW,
): Verification =>
  verifyDelivery(
    scheme,
    signedRequest(headers, typeof body === 'string' ? Buffer.from(body) : body),
    secrets,
    now,
    TOLERANCE,
  );

const refusal = (verdict: Verification): string => {
  if (verdict.ok) throw new Error(`expected a refusal, got ${JSON.stringify(verdict)}`);
  return verdict.problem;
};

/** The body with one byte flipped (a character that stays printable). */
const tampered = (body: string): string => {
  const bytes = Buffer.from(body);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('latin1');
};
/** `headers` without `name`. */
const without = (headers: Record<string, string>, name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));
/** The id of an accepted delivery. */
const idOf = (verdict: Verification): string =>
  verdict.ok ? verdict.id : `refused: ${verdict.problem}`;
const reserialized = (body: string): string => JSON.stringify(JSON.parse(body), null, 2);

// --- Stripe -------------------------------------------------------------------------------------
const STRIPE_SECRET = 'whsec_test_tributary_current';
const STRIPE_OLD = 'whsec_test_tributary_previous';
const stripeBody = JSON.stringify({
  id: 'evt_1QxA',
  object: 'event',
  type: 'customer.updated',
  created: NOW_S,
  data: { object: { id: 'cus_1', object: 'customer', email: 'a@example.com' } },
});
const stripeHeader = (payload: string, secret: string, timestamp = NOW_S) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

describe('stripe', () => {
  it("accepts what Stripe's own test signer signs, with the event's id and type", () => {
    const verdict = verify(
      'stripe',
      { 'Stripe-Signature': stripeHeader(stripeBody, STRIPE_SECRET) },
      stripeBody,
      [STRIPE_SECRET],
    );
    expect(verdict).toEqual({
      ok: true,
      id: 'evt_1QxA',
      eventType: 'customer.updated',
      signedAt: NOW,
    });
  });

  it('accepts a header with several v1 entries when one of them matches (Stripe rolling a secret)', () => {
    const theirs = stripeHeader(stripeBody, 'whsec_someone_else');
    const ours = stripeHeader(stripeBody, STRIPE_SECRET);
    const header = `${theirs},${ours.split(',')[1] ?? ''}`;
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verify('stripe', { 'stripe-signature': header }, stripeBody, [STRIPE_SECRET]).ok).toBe(
      true,
    );
  });

  it('accepts the old and the new secret during a rotation', () => {
    for (const secret of [STRIPE_OLD, STRIPE_SECRET]) {
      const headers = { 'stripe-signature': stripeHeader(stripeBody, secret) };
      expect(verify('stripe', headers, stripeBody, [STRIPE_OLD, STRIPE_SECRET]).ok).toBe(true);
    }
  });

  it('refuses a timestamp older than the tolerance, saying by how much', () => {
    const headers = { 'stripe-signature': stripeHeader(stripeBody, STRIPE_SECRET, NOW_S - 6 * 60) };
    expect(refusal(verify('stripe', headers, stripeBody, [STRIPE_SECRET]))).toBe(
      'Stripe-Signature timestamp 6m old, outside the 5m tolerance by 1m',
    );
    expect(verify('stripe', headers, stripeBody, [STRIPE_SECRET], NOW - 2 * MINUTE).ok).toBe(true);
  });

  it('refuses a timestamp further in the future than the tolerance', () => {
    const headers = {
      'stripe-signature': stripeHeader(stripeBody, STRIPE_SECRET, NOW_S + 10 * 60),
    };
    expect(refusal(verify('stripe', headers, stripeBody, [STRIPE_SECRET]))).toMatch(
      /in the future, outside the 5m tolerance by 5m/,
    );
  });

  it('refuses a malformed header: no timestamp, no v1, a v1 of the wrong length', () => {
    const good = stripeHeader(stripeBody, STRIPE_SECRET);
    const v1 = good.split(',')[1] ?? '';
    expect(
      refusal(verify('stripe', { 'stripe-signature': v1 }, stripeBody, [STRIPE_SECRET])),
    ).toMatch(/no t=/);
    expect(
      refusal(verify('stripe', { 'stripe-signature': `t=${NOW_S}` }, stripeBody, [STRIPE_SECRET])),
    ).toMatch(/no v1=/);
    const short = `t=${NOW_S},${v1.slice(0, -2)}`;
    expect(
      refusal(verify('stripe', { 'stripe-signature': short }, stripeBody, [STRIPE_SECRET])),
    ).toBe('Stripe-Signature v1 does not match the secret');
  });
});

// --- Shopify ------------------------------------------------------------------------------------
// Shopify documents the algorithm (base64 HMAC-SHA256 of the raw body with the client secret,
// https://shopify.dev/docs/apps/build/webhooks/verify-deliveries) and an example products/update
// payload (https://shopify.dev/docs/apps/build/webhooks/delivery-structure) but publishes no digest;
// the digest below was computed independently with
// `printf '%s' "$BODY" | openssl dgst -sha256 -hmac hush -binary | base64`.
const SHOPIFY_BODY =
  '{"id":9554194432293,"title":"T-Shirt","updated_at":"2025-04-22T14:30:00-05:00"}';
const SHOPIFY_SECRET = 'hush';
const SHOPIFY_DIGEST = 'UCz1+YmPT3uAvhemjC5K3x8lJlJy6fRcneAo8j6EJW4=';
const shopifyHeaders = (digest: string) => ({
  'X-Shopify-Hmac-Sha256': digest,
  'X-Shopify-Topic': 'products/update',
  'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  'X-Shopify-Event-Id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
});
const shopifyDigest = (body: string, secret: string) =>
  createHmac('sha256', secret).update(body).digest('base64');

describe('shopify', () => {
  it('accepts the independently computed vector; id is X-Shopify-Webhook-Id, type the topic', () => {
    expect(
      verify('shopify', shopifyHeaders(SHOPIFY_DIGEST), SHOPIFY_BODY, [SHOPIFY_SECRET]),
    ).toEqual({
      ok: true,
      id: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      eventType: 'products/update',
    });
  });

  it('falls back to X-Shopify-Event-Id, then to the body digest, for the id', () => {
    const headers = without(shopifyHeaders(SHOPIFY_DIGEST), 'X-Shopify-Webhook-Id');
    expect(verify('shopify', headers, SHOPIFY_BODY, [SHOPIFY_SECRET])).toMatchObject({
      id: '98880550-7158-44d4-b7cd-2c97c8a091b5',
    });
    const bare = { 'x-shopify-hmac-sha256': SHOPIFY_DIGEST };
    const verdict = verify('shopify', bare, SHOPIFY_BODY, [SHOPIFY_SECRET]);
    expect(idOf(verdict)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(verdict).toMatchObject({ eventType: '' });
  });

  it('ignores a stale X-Shopify-Triggered-At: Shopify signs no timestamp', () => {
    const headers = {
      ...shopifyHeaders(SHOPIFY_DIGEST),
      'X-Shopify-Triggered-At': '2020-01-01T00:00:00Z',
    };
    expect(verify('shopify', headers, SHOPIFY_BODY, [SHOPIFY_SECRET]).ok).toBe(true);
  });

  it('refuses a digest of the wrong length cleanly, and a digest that is not base64', () => {
    const short = SHOPIFY_DIGEST.slice(0, 20);
    expect(refusal(verify('shopify', shopifyHeaders(short), SHOPIFY_BODY, [SHOPIFY_SECRET]))).toBe(
      'X-Shopify-Hmac-Sha256 header malformed: a 15-byte digest, expected 32',
    );
    expect(
      refusal(verify('shopify', shopifyHeaders('not base64!'), SHOPIFY_BODY, [SHOPIFY_SECRET])),
    ).toMatch(/not base64/);
  });
});

// --- GitHub -------------------------------------------------------------------------------------
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
const GITHUB_SECRET = "It's a Secret to Everybody";
const GITHUB_VECTOR = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
const githubBody = JSON.stringify({
  action: 'opened',
  issue: { id: 1, number: 7, updated_at: '2026-03-01T11:59:00Z' },
});

describe('github', () => {
  it("accepts GitHub's documented vector (secret, 'Hello, World!')", () => {
    const verdict = verify(
      'github',
      {
        'X-Hub-Signature-256': GITHUB_VECTOR,
        'X-GitHub-Delivery': 'd-1',
        'X-GitHub-Event': 'ping',
      },
      'Hello, World!',
      [GITHUB_SECRET],
    );
    expect(verdict).toEqual({ ok: true, id: 'd-1', eventType: 'ping' });
  });

  it("accepts octokit's signature; eventType adds the body's action", async () => {
    const headers = {
      'x-hub-signature-256': await octokitSign(GITHUB_SECRET, githubBody),
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-github-event': 'issues',
    };
    expect(verify('github', headers, githubBody, [GITHUB_SECRET])).toEqual({
      ok: true,
      id: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      eventType: 'issues.opened',
    });
  });

  it('refuses a missing header, saying when only the SHA-1 one was sent', () => {
    expect(refusal(verify('github', {}, githubBody, [GITHUB_SECRET]))).toBe(
      'X-Hub-Signature-256 header missing',
    );
    expect(
      refusal(verify('github', { 'x-hub-signature': 'sha1=00' }, githubBody, [GITHUB_SECRET])),
    ).toMatch(/only the SHA-1/);
  });

  it('refuses a digest of the wrong length and a header without sha256=', () => {
    expect(
      refusal(
        verify('github', { 'x-hub-signature-256': GITHUB_VECTOR.slice(0, -1) }, 'Hello, World!', [
          GITHUB_SECRET,
        ]),
      ),
    ).toBe('X-Hub-Signature-256 header malformed: a 63-digit digest, expected 64');
    expect(
      refusal(
        verify('github', { 'x-hub-signature-256': GITHUB_VECTOR.slice(7) }, 'Hello, World!', [
          GITHUB_SECRET,
        ]),
      ),
    ).toMatch(/expected sha256=<hex>/);
  });
});

// --- Standard Webhooks ---------------------------------------------------------------------------
// The specification's test vector (standard-webhooks/standard-webhooks, spec and libraries' tests).
const STANDARD_VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const STANDARD_SECRET = `whsec_${Buffer.from('tributary-standard-current').toString('base64')}`;
const STANDARD_OLD = `whsec_${Buffer.from('tributary-standard-previous').toString('base64')}`;
const standardBody = JSON.stringify({
  type: 'invoice.paid',
  timestamp: '2026-03-01T12:00:00Z',
  data: { id: 'inv_1' },
});
const standardHeaders = (secrets: string[], timestamp = NOW_S, id = 'msg_1') => ({
  'webhook-id': id,
  'webhook-timestamp': String(timestamp),
  'webhook-signature': secrets
    .map((secret) => new Webhook(secret).sign(id, new Date(timestamp * 1000), standardBody))
    .join(' '),
});

describe('standard', () => {
  it("accepts the specification's test vector at its own time", () => {
    const { secret, id, timestamp, body, signature } = STANDARD_VECTOR;
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    expect(verify('standard', headers, body, [secret], timestamp * 1000)).toEqual({
      ok: true,
      id,
      eventType: '',
      signedAt: timestamp * 1000,
    });
    expect(refusal(verify('standard', headers, body, [secret]))).toMatch(
      /^webhook-timestamp timestamp .* old, outside the 5m tolerance/,
    );
  });

  it('accepts one of several space-separated v1 signatures; id is webhook-id, type the body type', () => {
    const headers = standardHeaders([STANDARD_OLD, STANDARD_SECRET]);
    expect(verify('standard', headers, standardBody, [STANDARD_SECRET])).toEqual({
      ok: true,
      id: 'msg_1',
      eventType: 'invoice.paid',
      signedAt: NOW,
    });
  });

  it('refuses a timestamp older than the tolerance and a malformed one', () => {
    expect(
      refusal(
        verify('standard', standardHeaders([STANDARD_SECRET], NOW_S - 301), standardBody, [
          STANDARD_SECRET,
        ]),
      ),
    ).toBe('webhook-timestamp timestamp 5m1s old, outside the 5m tolerance by 1s');
    const headers = {
      ...standardHeaders([STANDARD_SECRET]),
      'webhook-timestamp': '2026-03-01T12:00:00Z',
    };
    expect(refusal(verify('standard', headers, standardBody, [STANDARD_SECRET]))).toMatch(
      /expected unix seconds/,
    );
  });

  it('refuses a signature signed for another webhook-id (the id is signed)', () => {
    const headers = { ...standardHeaders([STANDARD_SECRET]), 'webhook-id': 'msg_2' };
    expect(refusal(verify('standard', headers, standardBody, [STANDARD_SECRET]))).toMatch(
      /does not match/,
    );
  });

  it('names a configured secret that is not a valid key, without showing it', () => {
    const problem = refusal(
      verify('standard', standardHeaders([STANDARD_SECRET]), standardBody, [
        'whsec_!!!',
        STANDARD_OLD,
      ]),
    );
    expect(problem).toBe(
      'webhook-signature does not match any of the 2 secrets; secret 1 is not a whsec_ base64 key',
    );
  });
});

// --- Every scheme -------------------------------------------------------------------------------
interface Signer {
  scheme: WebhookScheme;
  secret: string;
  body: string;
  /** The signature headers for `body` with `secret`. */
  sign: (body: string, secret: string) => Record<string, string>;
  /** The header carrying the digest. */
  header: string;
  /** What a delivery whose body is not JSON is identified as. */
  notJson: { id: RegExp; eventType: string };
}

const signers: Signer[] = [
  {
    scheme: 'stripe',
    secret: STRIPE_SECRET,
    body: stripeBody,
    header: 'stripe-signature',
    notJson: { id: /^sha256:[0-9a-f]{64}$/, eventType: '' },
    sign: (body, secret) => ({ 'stripe-signature': stripeHeader(body, secret) }),
  },
  {
    scheme: 'shopify',
    secret: SHOPIFY_SECRET,
    body: SHOPIFY_BODY,
    header: 'x-shopify-hmac-sha256',
    notJson: { id: /^w-1$/, eventType: '' },
    sign: (body, secret) => ({
      'x-shopify-hmac-sha256': shopifyDigest(body, secret),
      'x-shopify-webhook-id': 'w-1',
    }),
  },
  {
    scheme: 'github',
    secret: GITHUB_SECRET,
    body: githubBody,
    header: 'x-hub-signature-256',
    notJson: { id: /^g-1$/, eventType: 'issues' },
    sign: (body, secret) => ({
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      'x-github-delivery': 'g-1',
      'x-github-event': 'issues',
    }),
  },
  {
    scheme: 'standard',
    secret: STANDARD_SECRET,
    body: standardBody,
    header: 'webhook-signature',
    notJson: { id: /^msg_1$/, eventType: '' },
    sign: (body, secret) => ({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(NOW_S),
      'webhook-signature': new Webhook(secret).sign('msg_1', new Date(NOW), body),
    }),
  },
];

const WRONG = 'whsec_dGhlIHdyb25nIHNlY3JldA==';
const WRONG2 = `whsec_${Buffer.from('another wrong secret').toString('base64')}`;
const WRONG3 = `whsec_${Buffer.from('a third wrong secret').toString('base64')}`;

describe.each(signers)(
  '$scheme: the acceptance cases',
  ({ scheme, secret, body, sign, header, notJson }) => {
    it('accepts its own signature', () => {
      expect(verify(scheme, sign(body, secret), body, [secret]).ok).toBe(true);
    });

    it('refuses the wrong secret, naming how many secrets were tried', () => {
      expect(refusal(verify(scheme, sign(body, WRONG), body, [secret]))).toMatch(
        /does not match the secret$/,
      );
      expect(refusal(verify(scheme, sign(body, WRONG), body, [secret, WRONG2, WRONG3]))).toMatch(
        /does not match any of the 3 secrets$/,
      );
    });

    it('refuses one tampered byte and a re-serialized JSON body', () => {
      const headers = sign(body, secret);
      expect(verify(scheme, headers, tampered(body), [secret]).ok).toBe(false);
      expect(verify(scheme, headers, reserialized(body), [secret]).ok).toBe(false);
    });

    it('refuses a missing signature header by name', () => {
      const headers = without(sign(body, secret), header);
      expect(refusal(verify(scheme, headers, body, [secret]))).toMatch(/header missing/);
    });

    it('refuses a digest cut short without throwing', () => {
      const headers = sign(body, secret);
      const cut = { ...headers, [header]: (headers[header] ?? '').slice(0, -6) };
      expect(() => verify(scheme, cut, body, [secret])).not.toThrow();
      expect(verify(scheme, cut, body, [secret]).ok).toBe(false);
    });

    it('accepts each of three secrets (rotation), the signing one in any position', () => {
      for (const position of [0, 1, 2]) {
        const secrets = [WRONG, WRONG2];
        secrets.splice(position, 0, secret);
        expect(verify(scheme, sign(body, secret), body, secrets).ok).toBe(true);
      }
    });

    it('accepts an authentic body that is not JSON: id from the body digest or header, type empty', () => {
      const text = 'not json at all';
      const verdict = verify(scheme, sign(text, secret), text, [secret]);
      expect(idOf(verdict)).toMatch(notJson.id);
      expect(verdict).toMatchObject({ ok: true, eventType: notJson.eventType });
    });

    it('never puts a secret or a digest in a problem', () => {
      const headers = sign(body, secret);
      const digests = Object.values(headers)
        .flatMap((value) => value.split(/[ ,=]/))
        .filter((part) => part.length >= 16);
      const problems = [
        refusal(verify(scheme, sign(body, WRONG), body, [secret])),
        refusal(verify(scheme, headers, tampered(body), [secret])),
        refusal(verify(scheme, headers, body, [WRONG])),
      ];
      for (const problem of problems) {
        expect(problem).not.toContain(secret);
        expect(problem).not.toContain(WRONG);
        for (const digest of digests) expect(problem).not.toContain(digest);
      }
    });

    it('refuses when no secret is configured', () => {
      expect(refusal(verify(scheme, sign(body, secret), body, []))).toBe(
        'no signing secret is configured',
      );
    });
  },
);
