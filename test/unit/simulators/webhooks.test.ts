/**
 * The webhook senders against a local node:http receiver: each signs as its provider does (the
 * libraries' own signers and verifiers agree, and so does the intake's verifyDelivery), each fault
 * makes verifyDelivery refuse or changes only what it should, and the retry schedules are the
 * documented ones (an instant clock records every wait; nothing sleeps).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookScheme } from '../../../operator/api/webhook.ts';
import type { Clock } from '../../../operator/lib/clock.ts';
import {
  signedRequest,
  verifyDelivery,
  type Verification,
} from '../../../operator/intake/schemes/index.ts';
import {
  RETRY_WAITS,
  WebhookSender,
  type WebhookEvent,
  type WebhookFaults,
  type WebhookSenderOptions,
} from '../../../dev/simulators/index.ts';
import {
  githubSignature,
  shopifySignature,
  standardSignature,
  stripeSignature,
} from '../../../dev/simulators/webhooks/signing.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const TOLERANCE = 5 * MINUTE;

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Receiver {
  url: string;
  received: Received[];
}

const servers: Server[] = [];
const senders: WebhookSender[] = [];
afterEach(async () => {
  for (const sender of senders.splice(0)) sender.close();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** A receiver answering `status(n)` to its n-th request (1-based); default 200. */
async function receiver(status: (n: number) => number = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.statusCode = status(received.length);
      response.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/payments/customers`, received };
}

/** A clock whose timers fire at once, moving time by their delay; it records every delay. */
function instantClock(start = Date.parse('2026-03-01T12:00:00Z')) {
  let now = start;
  const waits: number[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      waits.push(ms);
      now += ms;
      setImmediate(fn);
      return () => undefined;
    },
  };
  return { clock, waits };
}

const SECRETS: Record<WebhookScheme, string> = {
  stripe: 'whsec_sim_stripe_current',
  shopify: 'shopify-client-secret',
  github: "It's a Secret to Everybody",
  standard: `whsec_${Buffer.from('tributary standard sim key').toString('base64')}`,
};

const EVENTS: Record<WebhookScheme, WebhookEvent> = {
  stripe: { type: 'customer.updated', object: { id: 'cus_1', email: 'a@example.com' } },
  shopify: { type: 'customers/update', object: { id: 7, email: 'a@example.com' } },
  github: { type: 'issues.opened', object: { action: 'opened', issue: { id: 1, number: 3 } } },
  standard: { type: 'invoice.paid', object: { id: 'inv_1' } },
};

const SCHEMES: WebhookScheme[] = ['stripe', 'shopify', 'github', 'standard'];

function sender(
  options: Partial<WebhookSenderOptions> & Pick<WebhookSenderOptions, 'scheme' | 'url'>,
) {
  const created = new WebhookSender({ secrets: [SECRETS[options.scheme]], ...options });
  senders.push(created);
  return created;
}

const verified = (
  scheme: WebhookScheme,
  request: Received,
  secrets = [SECRETS[scheme]],
  now = Date.now(),
): Verification =>
  verifyDelivery(scheme, signedRequest(request.headers, request.body), secrets, now, TOLERANCE);

const header = (request: Received | undefined, name: string): string => {
  const value = request?.headers[name];
  return typeof value === 'string' ? value : '';
};

describe('signing matches the documented vectors and the libraries', () => {
  it('GitHub: the documented vector, and octokit sign', async () => {
    expect(githubSignature('Hello, World!', SECRETS.github)).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
    expect(githubSignature('{"a":1}', 'k')).toBe(await octokitSign('k', '{"a":1}'));
  });

  it('Standard Webhooks: the specification vector, and Webhook.sign', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(
      standardSignature('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}', [
        secret,
      ]),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    const ours = standardSignature('msg_1', 1700000000, '{}', [SECRETS.standard]);
    expect(ours).toBe(
      new Webhook(SECRETS.standard).sign('msg_1', new Date(1700000000 * 1000), '{}'),
    );
  });

  it('Stripe: generateTestHeaderString, and one v1 per secret', () => {
    const payload = '{"id":"evt_1"}';
    expect(stripeSignature(payload, [SECRETS.stripe], 1700000000)).toBe(
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: SECRETS.stripe,
        timestamp: 1700000000,
      }),
    );
    expect(stripeSignature(payload, ['whsec_a', 'whsec_b'], 1).match(/v1=/g)).toHaveLength(2);
  });

  it('Shopify: the vector of test/unit/intake/schemes.test.ts', () => {
    const body = '{"id":9554194432293,"title":"T-Shirt","updated_at":"2025-04-22T14:30:00-05:00"}';
    expect(shopifySignature(body, 'hush')).toBe('UCz1+YmPT3uAvhemjC5K3x8lJlJy6fRcneAo8j6EJW4=');
  });
});

describe.each(SCHEMES)('%s sender', (scheme) => {
  it("posts what the library's verifier and verifyDelivery accept, in the provider's envelope", async () => {
    const target = await receiver();
    const delivery = await sender({ scheme, url: target.url }).send(EVENTS[scheme]);
    expect(delivery.attempts).toEqual([
      { url: target.url, attempt: 1, at: expect.any(Number) as number, status: 200 },
    ]);
    const request = target.received[0];
    if (request === undefined) throw new Error('nothing received');
    expect(verified(scheme, request)).toMatchObject({ ok: true, id: delivery.id });
    await expect(libraryAccepts(scheme, request)).resolves.toBe(true);
    expect(eventTypeOf(scheme, request)).toBe(EVENTS[scheme].type);
  });

  const refusing: [string, WebhookFaults][] = [
    ['tamper', { tamper: true }],
    ['wrongSecret', { wrongSecret: true }],
    ['reserialize', { reserialize: true }],
    ['dropHeader', { dropHeader: true }],
    ['truncateSignature', { truncateSignature: true }],
  ];
  it.each(refusing)('the %s fault makes verifyDelivery refuse', async (_name, faults) => {
    const target = await receiver();
    const simulated = sender({ scheme, url: target.url });
    simulated.setFaults(faults);
    await simulated.send(EVENTS[scheme]);
    const request = target.received[0];
    if (request === undefined) throw new Error('nothing received');
    expect(verified(scheme, request).ok).toBe(false);
  });

  it('a staleTimestamp is refused where the scheme signs a timestamp, and only there', async () => {
    const target = await receiver();
    const simulated = sender({ scheme, url: target.url });
    simulated.setFaults({ staleTimestamp: 10 * MINUTE });
    await simulated.send(EVENTS[scheme]);
    const request = target.received[0];
    if (request === undefined) throw new Error('nothing received');
    const verdict = verified(scheme, request);
    if (scheme === 'stripe' || scheme === 'standard') {
      expect(verdict).toEqual({
        ok: false,
        problem: expect.stringMatching(/outside the 5m tolerance by 5m/) as string,
      });
    } else {
      expect(verdict.ok).toBe(true);
    }
  });

  it('duplicate sends the same delivery 3 times concurrently to 2 receivers, all authentic', async () => {
    const [one, two] = [await receiver(), await receiver()];
    const simulated = sender({ scheme, url: one.url });
    simulated.setFaults({ duplicate: { times: 3, concurrent: true, urls: [one.url, two.url] } });
    const delivery = await simulated.send(EVENTS[scheme]);
    expect(delivery.attempts).toHaveLength(6);
    const all = [...one.received, ...two.received];
    expect([one.received.length, two.received.length]).toEqual([3, 3]);
    for (const request of all)
      expect(verified(scheme, request)).toMatchObject({ ok: true, id: delivery.id });
    expect(new Set(all.map((request) => request.body.toString()))).toEqual(
      new Set([delivery.body]),
    );
  });
});

describe('delivery faults', () => {
  it('reorder holds a batch and sends it newest first', async () => {
    const target = await receiver();
    const simulated = sender({ scheme: 'standard', url: target.url });
    simulated.setFaults({ reorder: { batch: 3 } });
    const sent = [1, 2, 3].map((version) =>
      simulated.send({ type: 'invoice.updated', object: { id: 'inv_1', version } }),
    );
    expect(target.received).toHaveLength(0);
    const deliveries = await Promise.all(sent);
    const versions = target.received.map(
      (request) =>
        (JSON.parse(request.body.toString()) as { data: { version: number } }).data.version,
    );
    expect(versions).toEqual([3, 2, 1]);
    expect(deliveries.map((delivery) => delivery.attempts.length)).toEqual([1, 1, 1]);
  });

  it('delay waits on the clock before each attempt', async () => {
    const target = await receiver();
    const { clock, waits } = instantClock();
    const simulated = sender({ scheme: 'shopify', url: target.url, clock });
    simulated.setFaults({ delay: 1500 });
    await simulated.send(EVENTS.shopify);
    expect(waits).toEqual([1500]);
    expect(target.received).toHaveLength(1);
  });

  it('stop sends nothing more and counts what would have been sent', async () => {
    const target = await receiver();
    const simulated = sender({ scheme: 'stripe', url: target.url });
    await simulated.send(EVENTS.stripe);
    simulated.setFaults({ stop: true });
    const stopped = await simulated.send(EVENTS.stripe);
    await simulated.send(EVENTS.stripe);
    expect(stopped.attempts).toEqual([]);
    expect(target.received).toHaveLength(1);
    expect(simulated.stats()).toMatchObject({ sent: 1, suppressed: 2, deliveries: 3 });
  });

  it('rotation: Stripe and Standard sign with every secret, each alone verifies', async () => {
    for (const scheme of ['stripe', 'standard'] as const) {
      const target = await receiver();
      const old =
        scheme === 'stripe'
          ? 'whsec_sim_previous'
          : `whsec_${Buffer.from('previous key').toString('base64')}`;
      await sender({ scheme, url: target.url, secrets: [old, SECRETS[scheme]] }).send(
        EVENTS[scheme],
      );
      const request = target.received[0];
      if (request === undefined) throw new Error('nothing received');
      expect(verified(scheme, request, [old]).ok).toBe(true);
      expect(verified(scheme, request, [SECRETS[scheme]]).ok).toBe(true);
      expect(
        verified(scheme, request, [`whsec_${Buffer.from('neither').toString('base64')}`]).ok,
      ).toBe(false);
    }
  });
});

describe('retries', () => {
  const failing = () => 500;

  it.each(['stripe', 'shopify', 'standard'] as const)(
    '%s retries on its documented schedule with the same id (scaled by timeScale)',
    async (scheme) => {
      const target = await receiver(failing);
      const { clock, waits } = instantClock();
      const delivery = await sender({ scheme, url: target.url, clock, timeScale: 0.5 }).send(
        EVENTS[scheme],
      );
      expect(waits).toEqual(RETRY_WAITS[scheme].map((wait) => wait * 0.5));
      expect(delivery.attempts.map((attempt) => attempt.status)).toEqual(
        Array.from({ length: RETRY_WAITS[scheme].length + 1 }, () => 500),
      );
      // Each attempt verifies at its own time (a fresh signature) and names the same delivery.
      const ids = target.received.map((request, index) =>
        verified(scheme, request, [SECRETS[scheme]], delivery.attempts[index]?.at ?? 0),
      );
      expect(new Set(ids.map((verdict) => (verdict.ok ? verdict.id : verdict.problem))).size).toBe(
        1,
      );
    },
  );

  it('the documented schedules: Svix from immediately to 10 h; Shopify 8 retries over 4 h; Stripe up to 3 days', () => {
    expect(RETRY_WAITS.standard).toEqual([
      5 * SECOND,
      5 * MINUTE,
      30 * MINUTE,
      2 * HOUR,
      5 * HOUR,
      10 * HOUR,
      10 * HOUR,
    ]);
    expect(RETRY_WAITS.shopify).toHaveLength(8);
    expect(RETRY_WAITS.shopify.reduce((sum, wait) => sum + wait, 0)).toBe(4 * HOUR);
    const stripe = RETRY_WAITS.stripe;
    expect(stripe.reduce((sum, wait) => sum + wait, 0)).toBeLessThanOrEqual(72 * HOUR);
    expect(stripe.reduce((sum, wait) => sum + wait, 0) + (stripe.at(-1) ?? 0)).toBeGreaterThan(
      72 * HOUR,
    );
    expect(stripe.slice(0, 4)).toEqual([1, 2, 4, 8].map((minutes) => minutes * MINUTE));
    expect(RETRY_WAITS.github).toEqual([]);
  });

  it('a retry is re-signed with a fresh timestamp (Stripe, Standard); Shopify keeps its Triggered-At', async () => {
    for (const [scheme, name] of [
      ['stripe', 'stripe-signature'],
      ['standard', 'webhook-timestamp'],
      ['shopify', 'x-shopify-triggered-at'],
    ] as const) {
      const target = await receiver((n) => (n === 1 ? 503 : 200));
      const { clock } = instantClock();
      await sender({ scheme, url: target.url, clock }).send(EVENTS[scheme]);
      const [first, second] = target.received.map((request) => header(request, name));
      const retried = target.received[1];
      if (retried === undefined) throw new Error('no retry received');
      if (scheme === 'shopify') expect(second).toBe(first);
      else expect(second).not.toBe(first);
      expect(verified(scheme, retried, [SECRETS[scheme]], clock.now()).ok).toBe(true);
    }
  });

  it('GitHub never retries; redeliver re-sends with the same X-GitHub-Delivery', async () => {
    const target = await receiver((n) => (n === 1 ? 500 : 200));
    const { clock, waits } = instantClock();
    const simulated = sender({ scheme: 'github', url: target.url, clock });
    const first = await simulated.send(EVENTS.github);
    expect(first.attempts.map((attempt) => attempt.status)).toEqual([500]);
    expect(waits).toEqual([]);
    const again = await simulated.redeliver(first.id);
    expect(again.attempts.map((attempt) => attempt.status)).toEqual([200]);
    expect(target.received.map((request) => header(request, 'x-github-delivery'))).toEqual([
      first.id,
      first.id,
    ]);
  });

  it('a Standard receiver answering 410 disables the endpoint: no retry, nothing more sent', async () => {
    const target = await receiver(() => 410);
    const { clock } = instantClock();
    const simulated = sender({ scheme: 'standard', url: target.url, clock });
    await simulated.send(EVENTS.standard);
    await simulated.send(EVENTS.standard);
    expect(target.received).toHaveLength(1);
    expect(simulated.stats()).toMatchObject({ disabled: true, suppressed: 1 });
  });
});

/** Whether the provider's own library verifies the received request. */
async function libraryAccepts(scheme: WebhookScheme, request: Received): Promise<boolean> {
  const body = request.body.toString();
  switch (scheme) {
    case 'stripe':
      return (
        Stripe.webhooks.signature?.verifyHeader(
          body,
          header(request, 'stripe-signature'),
          SECRETS.stripe,
        ) ?? false
      );
    case 'standard':
      new Webhook(SECRETS.standard).verify(body, {
        'webhook-id': header(request, 'webhook-id'),
        'webhook-timestamp': header(request, 'webhook-timestamp'),
        'webhook-signature': header(request, 'webhook-signature'),
      });
      return true;
    case 'github':
      return octokitVerify(SECRETS.github, body, header(request, 'x-hub-signature-256'));
    case 'shopify':
      // Shopify has no standalone verifier package; its documented algorithm, independently.
      return header(request, 'x-shopify-hmac-sha256') === shopifySignature(body, SECRETS.shopify);
  }
}

/** The event type as the receiver sees it (envelope or headers). */
function eventTypeOf(scheme: WebhookScheme, request: Received): string {
  const verdict = verified(scheme, request);
  return verdict.ok ? verdict.eventType : verdict.problem;
}
