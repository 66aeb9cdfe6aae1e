/**
 * How each provider retries a delivery that was not answered 2xx in time: the waits between
 * attempts (before the time scale) and the request timeout. Where a provider publishes only a
 * span, the intervals are a stated model of it (docs/decisions.md).
 */
import type { WebhookScheme } from '../../../operator/api/webhook.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Doubling waits from `first`, each at most `cap`, while the next attempt falls within `span`. */
function doubling(first: number, cap: number, span: number): number[] {
  const waits: number[] = [];
  let total = 0;
  for (let wait = first; total + Math.min(wait, cap) <= span; wait *= 2) {
    waits.push(Math.min(wait, cap));
    total += Math.min(wait, cap);
  }
  return waits;
}

/**
 * Waits between attempts, in ms:
 * - stripe: exponential back-off "for up to 3 days" (Stripe publishes the span, not the steps):
 *   1 min doubling, at most 12 h, every attempt within 72 h of the first.
 * - shopify: "8 retries over the next 4 hours" (count and span only): 1 min doubling for seven
 *   retries, the eighth at 4 h after the first attempt.
 * - github: none; GitHub never redelivers on its own (`redeliver(id)` is the explicit one).
 * - standard: Svix's published schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
 */
export const RETRY_WAITS: Readonly<Record<WebhookScheme, readonly number[]>> = {
  stripe: doubling(MINUTE, 12 * HOUR, 3 * DAY),
  shopify: [1, 2, 4, 8, 16, 32, 64, 113].map((minutes) => minutes * MINUTE),
  github: [],
  standard: [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR],
};

/**
 * How long a sender waits for an answer, in ms: Shopify 5 s, GitHub 10 s, Svix 15 s (each
 * documented); Stripe does not publish one (30 s assumed).
 */
export const REQUEST_TIMEOUTS: Readonly<Record<WebhookScheme, number>> = {
  stripe: 30 * SECOND,
  shopify: 5 * SECOND,
  github: 10 * SECOND,
  standard: 15 * SECOND,
};
