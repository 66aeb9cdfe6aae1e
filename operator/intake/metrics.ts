/**
 * The intake's Prometheus metrics: requests by result and how fast they were answered (the ack
 * latency), signature failures per Integration, what became of each applied delivery and how
 * long after arrival, and — read from the store at scrape time — inbox depth, the oldest pending
 * delivery's age and the dead-lettered count per Integration.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { IntakeIntegrationStats, InboxIntegration } from '../api/index.ts';
import type { HookResult } from './handler.ts';

/** Ack latency buckets, in seconds: a committed insert is milliseconds; 5 s is Shopify's timeout. */
const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Delivery → destination buckets, in seconds. */
const APPLY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800];

/** What a finished delivery attempt became (runtime/webhook/apply.ts outcome kinds). */
export type DeliveryResult = 'written' | 'unchanged' | 'skipped' | 'retry' | 'dead';

/** Metrics of one intake process, on an injected registry. */
export class IntakeMetrics {
  readonly #requests: Counter<'result'>;
  readonly #ack: Histogram<'result'>;
  readonly #signatureFailures: Counter<'namespace' | 'name'>;
  readonly #deliveries: Counter<'namespace' | 'name' | 'result'>;
  readonly #applyLatency: Histogram;
  readonly #sweepFailures: Counter;

  /** Registers the families; `stats` is read at each scrape for the store gauges. */
  constructor(
    registry: Registry,
    stats: () => Promise<IntakeIntegrationStats[]>,
    now: () => number,
  ) {
    const registers = [registry];
    this.#requests = new Counter({
      name: 'tributary_intake_requests_total',
      help: 'Requests to POST /hooks by result: stored, duplicate, ignored, rejected (signature or timestamp), not_found, too_large, method_not_allowed, unavailable (503: the store or the API server), secret_missing (503: no signing Secret of the Integration exists), error.',
      labelNames: ['result'],
      registers,
    });
    this.#ack = new Histogram({
      name: 'tributary_intake_ack_duration_seconds',
      help: 'From the request to the answer (for stored: after the durable commit), by result.',
      labelNames: ['result'],
      buckets: ACK_BUCKETS,
      registers,
    });
    this.#signatureFailures = new Counter({
      name: 'tributary_webhook_signature_failures_total',
      help: 'Deliveries refused with 401 per Integration: bad or missing signature, timestamp outside tolerance.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.#deliveries = new Counter({
      name: 'tributary_webhook_deliveries_total',
      help: 'Delivery attempts applied by this intake per Integration and result: written, unchanged (the destination had it), skipped (stale version, record gone), retry, dead (dead-lettered).',
      labelNames: ['namespace', 'name', 'result'],
      registers,
    });
    this.#applyLatency = new Histogram({
      name: 'tributary_webhook_delivery_to_destination_seconds',
      help: 'From the arrival of a delivery to its write at the destination (written or unchanged).',
      buckets: APPLY_BUCKETS,
      registers,
    });
    this.#sweepFailures = new Counter({
      name: 'tributary_intake_redrive_sweep_failures_total',
      help: 'Redrive sweeps (every 15 s: list the Integrations, redrive the dead letters of new requests) that failed; the requests wait for the next sweep.',
      registers,
    });
    storeGauges(registry, stats, now);
  }

  /** One answered request. */
  request(result: HookResult, seconds: number, integration: InboxIntegration | undefined): void {
    this.#requests.inc({ result });
    this.#ack.observe({ result }, seconds);
    if (result === 'rejected' && integration !== undefined) {
      this.#signatureFailures.inc({ namespace: integration.namespace, name: integration.name });
    }
  }

  /** A redrive sweep failed (the API server or the store). */
  sweepFailed(): void {
    this.#sweepFailures.inc();
  }

  /** One finished delivery attempt. */
  delivery(
    integration: InboxIntegration,
    result: DeliveryResult,
    secondsSinceArrival: number,
  ): void {
    this.#deliveries.inc({ namespace: integration.namespace, name: integration.name, result });
    if (result === 'written' || result === 'unchanged')
      this.#applyLatency.observe(secondsSinceArrival);
  }
}

/** Gauges read from the store at scrape time (a store that cannot answer exports none). */
function storeGauges(
  registry: Registry,
  stats: () => Promise<IntakeIntegrationStats[]>,
  now: () => number,
): void {
  const labelNames = ['namespace', 'name'] as const;
  const gauge = (
    name: string,
    help: string,
    value: (row: IntakeIntegrationStats) => number | undefined,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await stats().catch(() => []);
        for (const row of rows) {
          const v = value(row);
          if (v !== undefined) this.set({ namespace: row.namespace, name: row.name }, v);
        }
      },
    });
  gauge(
    'tributary_webhook_inbox_depth',
    'Stored deliveries not yet applied, per Integration.',
    (r) => r.pending,
  );
  gauge(
    'tributary_webhook_dead_lettered',
    'Dead-lettered deliveries held, per Integration.',
    (r) => r.deadLettered,
  );
  gauge(
    'tributary_webhook_oldest_pending_seconds',
    'Age of the oldest delivery not yet applied.',
    (r) =>
      r.oldestPendingTime === undefined
        ? undefined
        : Math.max(0, (now() - Date.parse(r.oldestPendingTime)) / 1000),
  );
}
