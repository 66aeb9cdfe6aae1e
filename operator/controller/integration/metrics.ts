/**
 * Integration metrics for dashboards and alert rules: runs by outcome, records by result, the
 * last successful sync, Job creation skew, one gauge per condition, the announced sunset, and the
 * requests the API server refused that keep an Integration from running.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ConditionType, Reason, type Condition, type SchemaChanges } from '../../api/index.ts';
import type { Plan } from './plan.ts';

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
const DRIFT_TYPES = ['missing', 'unexpected', 'mismatched'] as const;
/** What the refusals counter counts, by reason. */
const REFUSALS = [Reason.JobRejected, Reason.SecretLookupFailed] as const;
/** A reason of {@link REFUSALS}. */
export type Refusal = (typeof REFUSALS)[number];

/** Metrics of the Integration reconciler, registered on an injected registry. */
export class IntegrationMetrics {
  readonly #runs: Counter<'kind' | 'outcome'>;
  readonly #records: Counter<'namespace' | 'name' | 'result'>;
  readonly #lastSuccess: Gauge<'namespace' | 'name'>;
  readonly #skew: Histogram<'kind'>;
  readonly #missed: Counter<'namespace' | 'name'>;
  readonly #condition: Gauge<'namespace' | 'name' | 'type' | 'status'>;
  readonly #drift: Gauge<'namespace' | 'name' | 'type'>;
  readonly #sunset: Gauge<'namespace' | 'name'>;
  readonly #refusals = refusalsCounter();
  readonly #schemaChanges = schemaChangesGauge();

  /** Registers the metric families on `registry`. */
  constructor(registry: Registry) {
    const registers = [registry];
    registry.registerMetric(this.#refusals);
    registry.registerMetric(this.#schemaChanges);
    this.#runs = new Counter({
      name: 'tributary_runs_total',
      help: 'Finished runs by kind (sync, drift-check) and outcome.',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.#records = new Counter({
      name: 'tributary_records_total',
      help: 'Records processed by finished syncs, by result (read, written, unchanged, quarantined, failed).',
      labelNames: ['namespace', 'name', 'result'],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'tributary_last_successful_sync_timestamp_seconds',
      help: 'Unix time of the last successful sync of each Integration.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.#skew = new Histogram({
      name: 'tributary_job_creation_skew_seconds',
      help: 'Seconds from a run being due to its Job being created.',
      labelNames: ['kind'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    this.#missed = new Counter({
      name: 'tributary_missed_runs_total',
      help: 'Due runs skipped because they could not start before startingDeadline.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.#drift = new Gauge({
      name: 'tributary_drift_records',
      help: 'Differences found by the last drift check, by type (missing, unexpected, mismatched).',
      labelNames: ['namespace', 'name', 'type'],
      registers,
    });
    this.#condition = new Gauge({
      name: 'tributary_integration_condition',
      help: 'Conditions of each Integration: 1 for the current status of each type, 0 otherwise.',
      labelNames: ['namespace', 'name', 'type', 'status'],
      registers,
    });
    this.#sunset = new Gauge({
      name: 'tributary_integration_sunset_timestamp_seconds',
      help: 'Unix time of the sunset the provider announced for what each Integration calls (status.deprecation.sunset); no series when none is announced.',
      labelNames: ['namespace', 'name'],
      registers,
    });
  }

  /** Records what one reconcile planned and observed, for the Integration `object` names. */
  observe(object: { namespace?: string | undefined; name: string }, plan: Plan): void {
    const namespace = object.namespace ?? '';
    const { name } = object;
    for (const record of plan.finished) {
      this.#runs.inc({ kind: record.kind, outcome: record.outcome });
      for (const [result, count] of Object.entries(record.stats ?? {})) {
        if (count > 0) this.#records.inc({ namespace, name, result }, count);
      }
    }
    if (plan.missed > 0) this.#missed.inc({ namespace, name }, plan.missed);
    const success = plan.status.lastSuccessfulSyncTime;
    if (success !== undefined)
      this.#lastSuccess.set({ namespace, name }, Date.parse(success) / 1000);
    const sunset = Date.parse(plan.status.deprecation?.sunset ?? '');
    if (Number.isNaN(sunset)) this.#sunset.remove({ namespace, name });
    else this.#sunset.set({ namespace, name }, sunset / 1000);
    const drift = plan.status.drift;
    for (const type of DRIFT_TYPES) {
      if (drift === undefined) this.#drift.remove({ namespace, name, type });
      else this.#drift.set({ namespace, name, type }, drift[type]);
    }
    this.observeConditions(namespace, name, plan.status.conditions);
    observeSchemaChanges(this.#schemaChanges, namespace, name, plan.status.schemaChanges);
  }

  /** Sets the condition gauges; also for an Integration whose spec cannot be planned. */
  observeConditions(namespace: string, name: string, conditions: readonly Condition[] = []): void {
    for (const type of Object.values(ConditionType)) {
      const current = conditions.find((c) => c.type === type)?.status;
      for (const status of CONDITION_STATUSES) {
        this.#condition.set({ namespace, name, type, status }, current === status ? 1 : 0);
      }
    }
  }

  /** Records the skew between a run's due time and its Job's creation. */
  jobCreated(kind: string, skewMs: number): void {
    if (Number.isFinite(skewMs)) this.#skew.observe({ kind }, Math.max(0, skewMs) / 1000);
  }

  /** Counts a request the API server refused for an Integration (a Job create, a Secret check). */
  refused(object: { namespace: string; name: string }, reason: Refusal): void {
    this.#refusals.inc({ namespace: object.namespace, name: object.name, reason });
  }

  /** Drops the series of a deleted Integration. */
  forget(namespace: string, name: string): void {
    for (const reason of REFUSALS) this.#refusals.remove({ namespace, name, reason });
    for (const change of SCHEMA_CHANGES) this.#schemaChanges.remove({ namespace, name, change });
    this.#lastSuccess.remove({ namespace, name });
    this.#sunset.remove({ namespace, name });
    for (const type of DRIFT_TYPES) this.#drift.remove({ namespace, name, type });
    for (const type of Object.values(ConditionType)) {
      for (const status of CONDITION_STATUSES)
        this.#condition.remove({ namespace, name, type, status });
    }
  }
}

function refusalsCounter(): Counter<'namespace' | 'name' | 'reason'> {
  return new Counter({
    name: 'tributary_api_refusals_total',
    help: 'Requests the API server refused that keep an Integration from running, by reason (JobRejected: a run Job create refused by a ResourceQuota, admission or RBAC; SecretLookupFailed: a Secret check refused).',
    labelNames: ['namespace', 'name', 'reason'],
    registers: [],
  });
}

/** The kinds of schema change the schema changes gauge counts. */
const SCHEMA_CHANGES = ['added', 'removed'] as const;

function schemaChangesGauge(): Gauge<'namespace' | 'name' | 'change'> {
  return new Gauge({
    name: 'tributary_schema_changes',
    help: 'Fields the last sync saw added to or removed from spec.schema (status.schemaChanges; dotted paths for nested fields), by change (added, removed); at most 32 each.',
    labelNames: ['namespace', 'name', 'change'],
    registers: [],
  });
}

/** Sets both series of one Integration (0 when nothing changed), as SchemaChanged reads them. */
function observeSchemaChanges(
  gauge: Gauge<'namespace' | 'name' | 'change'>,
  namespace: string,
  name: string,
  changes: SchemaChanges | undefined,
): void {
  for (const change of SCHEMA_CHANGES)
    gauge.set({ namespace, name, change }, changes?.[change]?.length ?? 0);
}
