/**
 * A webhook sender per provider: wraps a test's event in the provider's envelope, signs it with
 * its own implementation of the provider's scheme, posts it, and retries as the provider does
 * (waits multiplied by `timeScale`, so tests do not wait hours), re-sending the same delivery id —
 * with a fresh signature timestamp for Stripe and Standard Webhooks, as they do. Faults make it
 * duplicate, reorder, delay, stop, or sign and send wrongly.
 */
import type { WebhookScheme } from '../../../operator/api/webhook.ts';
import { sleep, systemClock, type Clock } from '../../../operator/lib/clock.ts';
import { headersFor, prepare, type PreparedDelivery, type WebhookEvent } from './envelope.ts';
import { faultyBody, faultyHeaders, wrongSecretFor, type WebhookFaults } from './faults.ts';
import { REQUEST_TIMEOUTS, RETRY_WAITS } from './schedules.ts';

/** Options of {@link WebhookSender}. */
export interface WebhookSenderOptions {
  scheme: WebhookScheme;
  /** Where deliveries are posted (the intake's /hooks/{namespace}/{name}). */
  url: string;
  /** Signing secrets: Stripe and Standard sign with each (one signature per secret); Shopify and GitHub with the first. */
  secrets: readonly string[];
  /** Factor applied to the provider's retry waits (1/3600: an hour becomes a second). Default 1. */
  timeScale?: number;
  /** Time and timers. Default the system clock (timers keep the process alive). */
  clock?: Clock;
  /** Per-request timeout in ms (real time). Default the provider's (REQUEST_TIMEOUTS). */
  requestTimeoutMs?: number;
  /** Attempts at most per copy of a delivery, first included. Default: the provider's schedule. */
  maxAttempts?: number;
}

/** One HTTP attempt and what came back. */
export interface WebhookAttempt {
  url: string;
  /** 1 for the first attempt of a copy, 2 for its first retry, … */
  attempt: number;
  /** When it was sent, on the sender's clock (epoch ms). */
  at: number;
  /** The HTTP status, or what went wrong instead. */
  status: number | 'timeout' | 'network-error';
}

/** A delivery and every attempt made for it so far. */
export interface WebhookDelivery {
  id: string;
  eventType: string;
  /** The body as signed. */
  body: string;
  attempts: WebhookAttempt[];
}

/** What the sender did. */
export interface WebhookSenderStats {
  /** HTTP requests made. */
  sent: number;
  /** Attempts not made because of the `stop` fault (or a Standard endpoint disabled by a 410). */
  suppressed: number;
  deliveries: number;
  /** A Standard Webhooks receiver answered 410: the sender disabled the endpoint, as Svix does. */
  disabled: boolean;
}

interface Held {
  delivery: PreparedDelivery;
  resolve: (delivery: WebhookDelivery) => void;
  reject: (error: unknown) => void;
}

/** A simulated webhook sender for one provider and one endpoint. */
export class WebhookSender {
  readonly #options: WebhookSenderOptions;
  readonly #clock: Clock;
  readonly #closed = new AbortController();
  readonly #deliveries = new Map<string, PreparedDelivery>();
  #secrets: readonly string[];
  #faults: WebhookFaults = {};
  #held: Held[] = [];
  #sent = 0;
  #suppressed = 0;
  #disabled = false;

  /** Stores options; nothing is sent until `send`. */
  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    this.#secrets = options.secrets;
    this.#clock = options.clock ?? systemClock({ keepAlive: true });
  }

  /** Replaces the faults (an empty object clears them). */
  setFaults(faults: WebhookFaults): void {
    this.#faults = { ...faults };
  }

  /** Signs from now on with `secrets` (a rotation). */
  setSecrets(secrets: readonly string[]): void {
    this.#secrets = secrets;
  }

  /** Delivers `event` (retrying as the provider does); resolves once every attempt is over. */
  send(event: WebhookEvent): Promise<WebhookDelivery> {
    const delivery = prepare(this.#options.scheme, event, this.#clock.now());
    this.#deliveries.set(delivery.id, delivery);
    const batch = this.#faults.reorder?.batch;
    if (batch === undefined || batch <= 1) return this.#dispatch(delivery);
    return new Promise((resolve, reject) => {
      this.#held.push({ delivery, resolve, reject });
      if (this.#held.length >= batch) void this.flush();
    });
  }

  /** Re-sends a delivery sent before, with the same id (GitHub's "Redeliver"), as a new round of attempts. */
  redeliver(id: string): Promise<WebhookDelivery> {
    const delivery = this.#deliveries.get(id);
    if (delivery === undefined) return Promise.reject(new Error(`no delivery ${id} was sent`));
    return this.#dispatch(delivery);
  }

  /** Sends the held (reorder) deliveries now, newest first, one after another. */
  async flush(): Promise<void> {
    const held = this.#held.splice(0).reverse();
    for (const { delivery, resolve, reject } of held) {
      await this.#dispatch(delivery).then(resolve, reject);
    }
  }

  /** Counts so far. */
  stats(): WebhookSenderStats {
    return {
      sent: this.#sent,
      suppressed: this.#suppressed,
      deliveries: this.#deliveries.size,
      disabled: this.#disabled,
    };
  }

  /** Abandons pending waits: no retry is sent after this. */
  close(): void {
    this.#closed.abort();
  }

  async #dispatch(delivery: PreparedDelivery): Promise<WebhookDelivery> {
    const duplicate = this.#faults.duplicate;
    const urls = duplicate?.urls ?? [this.#options.url];
    const copies = urls.flatMap((url) => Array.from({ length: duplicate?.times ?? 1 }, () => url));
    const attempts: WebhookAttempt[] = [];
    if (duplicate?.concurrent === true) {
      await Promise.all(copies.map((url) => this.#deliverCopy(delivery, url, attempts)));
    } else {
      for (const url of copies) await this.#deliverCopy(delivery, url, attempts);
    }
    const { id, eventType, body } = delivery;
    return { id, eventType, body, attempts };
  }

  /** One copy of a delivery to one URL: the first attempt and the provider's retries. */
  async #deliverCopy(delivery: PreparedDelivery, url: string, attempts: WebhookAttempt[]) {
    const waits = RETRY_WAITS[this.#options.scheme];
    const maxAttempts = this.#options.maxAttempts ?? waits.length + 1;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      if (this.#closed.signal.aborted) return;
      if (this.#faults.stop === true || this.#disabled) {
        this.#suppressed += 1;
        return;
      }
      if (this.#faults.delay !== undefined)
        await sleep(this.#clock, this.#faults.delay, this.#closed.signal);
      const at = this.#clock.now();
      const status = await this.#attempt(delivery, url);
      attempts.push({ url, attempt, at, status });
      if (typeof status === 'number' && status >= 200 && status < 300) return;
      if (this.#options.scheme === 'standard' && status === 410) {
        this.#disabled = true;
        return;
      }
      const wait = waits[attempt - 1];
      if (wait === undefined || attempt === maxAttempts) return;
      await sleep(this.#clock, wait * (this.#options.timeScale ?? 1), this.#closed.signal);
    }
  }

  /** Signs (now, or stale) and posts one attempt; resolves with the status or the failure. */
  async #attempt(delivery: PreparedDelivery, url: string): Promise<WebhookAttempt['status']> {
    const faults = this.#faults;
    const scheme = this.#options.scheme;
    const base = scheme === 'shopify' ? delivery.createdAt : this.#clock.now();
    const signedAt = base - (faults.staleTimestamp ?? 0);
    const secrets = faults.wrongSecret === true ? [wrongSecretFor(scheme)] : this.#secrets;
    const headers = faultyHeaders(scheme, headersFor(delivery, secrets, signedAt), faults);
    const body = faultyBody(delivery.body, faults);
    const timeout = this.#options.requestTimeoutMs ?? REQUEST_TIMEOUTS[scheme];
    this.#sent += 1;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeout),
      });
      await response.arrayBuffer();
      return response.status;
    } catch (err) {
      return err instanceof DOMException && err.name === 'TimeoutError'
        ? 'timeout'
        : 'network-error';
    }
  }
}
