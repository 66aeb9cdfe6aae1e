/**
 * Integration metrics for dashboards and alert rules: runs and their durations by outcome,
 * records by result, the last successful sync, Job creation skew, one gauge per condition, the
 * announced sunset, and the requests the API server refused that keep an Integration from
 * running. Every series that names an Integration is dropped when it is deleted.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { joinKey } from '../../lib/key.ts';
import {
  type Condition,
  type Reason,
  type RunRecord,
  type SchemaChanges,
} from '../../api/index.ts';
import { ConditionGauge } from './condition-gauge.ts';
import type { Plan } from './plan.ts';

const DRIFT_TYPES = ['missing', 'unexpected', 'mismatched'] as const;
/** What the refusals counter counts, by reason. */
type Refusals = [typeof Reason.JobRejected, typeof Reason.SecretLookupFailed];
/** A reason the refusals counter counts. */
export type Refusal = Refusals[number];
/** Buckets of run durations, in seconds: from a few seconds to timeouts.run's hour. */
const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

type RunLabels = 'namespace' | 'name' | 'kind' | 'outcome';
/** A metric with series named by an Integration: what forget() removes them from. */
interface Removable {
  remove(labels: Record<string, string>): void;
}

/** Metrics of the Integration reconciler, registered on an injected registry. */
export class IntegrationMetrics {
  readonly #runs: Counter<RunLabels>;
  readonly #runDuration = runDurationHistogram();
  /** The label sets written per Integration (`namespace/name`), for forget(). */
  readonly #series = new Map<string, Map<string, { metric: Removable; labels: Labels }>>();
  readonly #records: Counter<'namespace' | 'name' | 'result'>;
  readonly #lastSuccess: Gauge<'namespace' | 'name'>;
  readonly #skew: Histogram<'kind'>;
  readonly #missed: Counter<'namespace' | 'name'>;
  readonly #condition = new ConditionGauge();
  readonly #drift: Gauge<'namespace' | 'name' | 'type'>;
  readonly #sunset: Gauge<'namespace' | 'name'>;
  readonly #refusals = refusalsCounter();
  readonly #schemaChanges = schemaChangesGauge();

  /** Registers the metric families on `registry`. */
  constructor(registry: Registry) {
    const registers = [registry];
    registry.registerMetric(this.#refusals);
    registry.registerMetric(this.#schemaChanges);
    registry.registerMetric(this.#runDuration);
    registry.registerMetric(this.#condition.asMetric());
    this.#runs = new Counter({
      name: 'tributary_runs_total',
      help: 'Finished runs of each Integration by kind (sync, drift-check) and outcome (Succeeded, PartiallySucceeded, Failed).',
      labelNames: ['namespace', 'name', 'kind', 'outcome'],
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
    const track = this.#tracker(namespace, name);
    for (const record of plan.finished) this.#finished(track, record);
    if (plan.missed > 0) this.#missed.inc(track(this.#missed, {}), plan.missed);
    const success = plan.status.lastSuccessfulSyncTime;
    if (success !== undefined)
      this.#lastSuccess.set(track(this.#lastSuccess, {}), seconds(success));
    const sunset = Date.parse(plan.status.deprecation?.sunset ?? '');
    if (Number.isNaN(sunset)) this.#sunset.remove({ namespace, name });
    else this.#sunset.set(track(this.#sunset, {}), sunset / 1000);
    const drift = plan.status.drift;
    for (const type of DRIFT_TYPES) {
      if (drift === undefined) this.#drift.remove({ namespace, name, type });
      else this.#drift.set(track(this.#drift, { type }), drift[type]);
    }
    this.observeConditions(namespace, name, plan.status.conditions);
    this.#observeSchemaChanges(track, plan.status.schemaChanges);
  }

  /** Sets the condition gauges; also for an Integration whose spec cannot be planned. */
  observeConditions(namespace: string, name: string, conditions: readonly Condition[] = []): void {
    this.#condition.set(namespace, name, conditions);
  }

  /** Sets the schema change gauges: how many fields the last sync saw added and removed. */
  #observeSchemaChanges(track: Tracker, changes: SchemaChanges | undefined): void {
    for (const change of SCHEMA_CHANGES) {
      this.#schemaChanges.set(
        track(this.#schemaChanges, { change }),
        changes?.[change]?.length ?? 0,
      );
    }
  }

  /** Counts a finished run, its duration and its records. */
  #finished(track: Tracker, record: RunRecord): void {
    const labels = { kind: record.kind, outcome: record.outcome };
    this.#runs.inc(track(this.#runs, labels));
    const start = Date.parse(record.startTime ?? '');
    const end = Date.parse(record.completionTime ?? '');
    if (Number.isFinite(start) && Number.isFinite(end)) {
      this.#runDuration.observe(track(this.#runDuration, labels), Math.max(0, end - start) / 1000);
    }
    for (const [result, count] of Object.entries(record.stats ?? {})) {
      if (count > 0) this.#records.inc(track(this.#records, { result }), count);
    }
  }

  /** Labels of one Integration's series, remembered so that forget() can remove each. */
  #tracker(namespace: string, name: string): Tracker {
    const key = joinKey(namespace, name);
    return (metric, extra) => {
      const labels = { namespace, name, ...extra };
      let written = this.#series.get(key);
      if (written === undefined) {
        written = new Map<string, { metric: Removable; labels: Labels }>();
        this.#series.set(key, written);
      }
      written.set(JSON.stringify([(metric as { name?: string }).name, labels]), { metric, labels });
      return labels;
    };
  }

  /** Records the skew between a run's due time and its Job's creation. */
  jobCreated(kind: string, skewMs: number): void {
    if (Number.isFinite(skewMs)) this.#skew.observe({ kind }, Math.max(0, skewMs) / 1000);
  }

  /** Counts a request the API server refused for an Integration (a Job create, a Secret check). */
  refused(object: { namespace: string; name: string }, reason: Refusal): void {
    const track = this.#tracker(object.namespace, object.name);
    this.#refusals.inc(track(this.#refusals, { reason }));
  }

  /** Drops every series of a deleted Integration. */
  forget(namespace: string, name: string): void {
    const key = joinKey(namespace, name);
    for (const { metric, labels } of this.#series.get(key)?.values() ?? []) metric.remove(labels);
    this.#series.delete(key);
    this.#condition.remove(namespace, name);
  }
}

/** Labels of a series of one Integration: namespace and name plus `extra`. */
type Labels = Record<string, string>;
/** Adds namespace and name to `extra` and remembers the series of `metric`. */
type Tracker = (metric: Removable, extra: Labels) => Labels;

function seconds(timestamp: string): number {
  return Date.parse(timestamp) / 1000;
}

function runDurationHistogram(): Histogram<RunLabels> {
  return new Histogram({
    name: 'tributary_run_duration_seconds',
    help: "Seconds from a run's start to its completion (its record in status.history), by Integration, kind and outcome.",
    labelNames: ['namespace', 'name', 'kind', 'outcome'],
    buckets: RUN_DURATION_BUCKETS,
    registers: [],
  });
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
