/**
 * What each provider wraps around an event and which headers it sends: Stripe's event object,
 * Standard Webhooks' `{type, timestamp, data}`, Shopify's and GitHub's bare payload with the topic
 * or event in a header, and each scheme's signature headers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookScheme } from '../../../operator/api/webhook.ts';
import {
  githubSignature,
  shopifySignature,
  standardSignature,
  stripeSignature,
} from './signing.ts';

/** An event a test sends: its type as the provider names it and its object. */
export interface WebhookEvent {
  /** `customer.updated`, `customers/update`, `issues.opened` (GitHub: event.action), `invoice.paid`. */
  type: string;
  /** The object (Stripe `data.object`, Standard `data`); for Shopify and GitHub, the whole body. */
  object: Record<string, unknown>;
  /** The delivery or event id; default a fresh one in the provider's format. */
  id?: string;
}

/** One delivery as the sender keeps it across attempts. */
export interface PreparedDelivery {
  scheme: WebhookScheme;
  /** Stripe event id, X-Shopify-Webhook-Id, X-GitHub-Delivery or webhook-id: the same on every attempt. */
  id: string;
  eventType: string;
  /** The body as signed. */
  body: string;
  /** When the event happened (epoch ms): Shopify's X-Shopify-Triggered-At. */
  createdAt: number;
  /** Shopify's X-Shopify-Event-Id. */
  eventId: string;
}

/** The name of the header carrying each scheme's signature. */
export const SIGNATURE_HEADER: Readonly<Record<WebhookScheme, string>> = {
  stripe: 'stripe-signature',
  shopify: 'x-shopify-hmac-sha256',
  github: 'x-hub-signature-256',
  standard: 'webhook-signature',
};

const token = () => randomBytes(12).toString('base64url');
const freshId: Record<WebhookScheme, () => string> = {
  stripe: () => `evt_${token()}`,
  shopify: () => randomUUID(),
  github: () => randomUUID(),
  standard: () => `msg_${token()}`,
};

/** Wraps `event` in the provider's envelope. */
export function prepare(scheme: WebhookScheme, event: WebhookEvent, now: number): PreparedDelivery {
  const id = event.id ?? freshId[scheme]();
  const created = Math.floor(now / 1000);
  const bodies: Record<WebhookScheme, () => unknown> = {
    stripe: () => ({
      id,
      object: 'event',
      type: event.type,
      created,
      data: { object: event.object },
    }),
    standard: () => ({
      type: event.type,
      timestamp: new Date(now).toISOString(),
      data: event.object,
    }),
    shopify: () => event.object,
    github: () => event.object,
  };
  const body = JSON.stringify(bodies[scheme]());
  return { scheme, id, eventType: event.type, body, createdAt: now, eventId: randomUUID() };
}

/** The headers of one attempt at `delivery`, signed at `signedAt` (epoch ms) with `secrets`. */
export function headersFor(
  delivery: PreparedDelivery,
  secrets: readonly string[],
  signedAt: number,
): Record<string, string> {
  const { scheme, id, body } = delivery;
  const seconds = Math.floor(signedAt / 1000);
  const first = secrets[0] ?? '';
  const json = { 'content-type': 'application/json' };
  switch (scheme) {
    case 'stripe':
      return { ...json, 'stripe-signature': stripeSignature(body, secrets, seconds) };
    case 'shopify':
      return {
        ...json,
        'x-shopify-hmac-sha256': shopifySignature(body, first),
        'x-shopify-topic': delivery.eventType,
        'x-shopify-webhook-id': id,
        'x-shopify-event-id': delivery.eventId,
        'x-shopify-triggered-at': new Date(signedAt).toISOString(),
        'x-shopify-shop-domain': 'tributary-sim.myshopify.com',
      };
    case 'github':
      return {
        ...json,
        'x-hub-signature-256': githubSignature(body, first),
        'x-github-event': delivery.eventType.split('.')[0] ?? '',
        'x-github-delivery': id,
        'user-agent': 'GitHub-Hookshot/tributary-sim',
      };
    case 'standard':
      return {
        ...json,
        'webhook-id': id,
        'webhook-timestamp': String(seconds),
        'webhook-signature': standardSignature(id, seconds, body, secrets),
      };
  }
}
