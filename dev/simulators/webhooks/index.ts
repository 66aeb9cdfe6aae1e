/** Simulated webhook senders for Stripe, Shopify, GitHub and Standard Webhooks (README.md#webhook-senders). */
export { SIGNATURE_HEADER, type WebhookEvent } from './envelope.ts';
export type { WebhookFaults } from './faults.ts';
export { REQUEST_TIMEOUTS, RETRY_WAITS } from './schedules.ts';
export {
  WebhookSender,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookSenderOptions,
  type WebhookSenderStats,
} from './sender.ts';
export {
  githubSignature,
  shopifySignature,
  standardSignature,
  stripeSignature,
} from './signing.ts';
