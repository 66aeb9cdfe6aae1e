import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { IntegrationStatus, RunRecord } from '../../../../operator/api/index.ts';
import { IntegrationMetrics } from '../../../../operator/controller/integration/metrics.ts';
import type { Plan } from '../../../../operator/controller/integration/plan.ts';
import { NAME, NAMESPACE } from './fixtures.ts';

const SUNSET = 'tributary_integration_sunset_timestamp_seconds';

const integration = { namespace: NAMESPACE, name: NAME };

function plan(status: IntegrationStatus): Plan {
  return { status, prune: [], events: [], missed: 0, finished: [] };
}

/** The series of metric `name`: labels and value. Throws when it is not registered. */
async function series(
  registry: Registry,
  name: string,
): Promise<{ labels: object; value: number }[]> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  return (await metric.get()).values.map(({ labels, value }) => ({ labels, value }));
}

describe('IntegrationMetrics: the announced sunset', () => {
  it('exports status.deprecation.sunset as Unix seconds', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observe(
      integration,
      plan({ deprecation: { message: 'v1 is deprecated', sunset: '2026-07-01T00:00:00Z' } }),
    );
    expect(await series(registry, SUNSET)).toEqual([
      { labels: { namespace: NAMESPACE, name: NAME }, value: Date.UTC(2026, 6, 1) / 1000 },
    ]);
  });

  it.each<[string, IntegrationStatus]>([
    ['the deprecation is withdrawn', {}],
    ['the deprecation no longer names a sunset', { deprecation: { message: 'deprecated' } }],
  ])('drops the series when %s', async (_, status) => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observe(
      integration,
      plan({ deprecation: { message: 'deprecated', sunset: '2026-07-01T00:00:00Z' } }),
    );
    metrics.observe(integration, plan(status));
    expect(await series(registry, SUNSET)).toEqual([]);
  });

  it('drops the series of a deleted Integration', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observe(
      integration,
      plan({ deprecation: { message: 'deprecated', sunset: '2026-07-01T00:00:00Z' } }),
    );
    metrics.forget(NAMESPACE, NAME);
    expect(await series(registry, SUNSET)).toEqual([]);
  });
});

describe('IntegrationMetrics: drift and conditions', () => {
  const DRIFT = 'tributary_drift_records';
  const CONDITION = 'tributary_integration_condition';

  it('exports the last drift check by type, and drops it when status has none', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    const drift = {
      checkTime: '2026-01-05T10:00:00Z',
      missing: 3,
      unexpected: 0,
      mismatched: 2,
      total: 5,
    };
    metrics.observe(integration, plan({ drift }));
    expect(await series(registry, DRIFT)).toEqual(
      (['missing', 'unexpected', 'mismatched'] as const).map((type) => ({
        labels: { namespace: NAMESPACE, name: NAME, type },
        value: drift[type],
      })),
    );
    metrics.observe(integration, plan({}));
    expect(await series(registry, DRIFT)).toEqual([]);
  });

  it('sets one series per condition type and status, 1 for the current status', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observeConditions(NAMESPACE, NAME, [
      {
        type: 'Stalled',
        status: 'True',
        reason: 'InvalidSpec',
        message: 'spec is invalid',
        lastTransitionTime: '2026-01-05T10:00:00Z',
      },
    ]);
    const stalled = (await series(registry, CONDITION)).filter(
      (s) => (s.labels as { type: string }).type === 'Stalled',
    );
    expect(stalled.map((s) => [(s.labels as { status: string }).status, s.value])).toEqual([
      ['True', 1],
      ['False', 0],
      ['Unknown', 0],
    ]);
  });

  // The webhook alerts read these; TributaryIntakeUnavailable (critical) takes a WebhookSilent
  // series at 1 to mean some Integration has spec.webhook, so without one they must all be 0.
  it.each([
    ['WebhookSilent', 'NoDeliveries'],
    ['EventsMissed', 'ChangesWithoutDelivery'],
    ['WebhookRejecting', 'SignaturesRejected'],
  ])('exports %s, and only 0s for an Integration without it', async (type, reason) => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    const condition = { type, status: 'True' as const, reason, message: '' };
    metrics.observeConditions(NAMESPACE, 'hooked', [
      { ...condition, lastTransitionTime: '2026-01-05T10:00:00Z' },
    ]);
    metrics.observeConditions(NAMESPACE, 'polled', []);
    const of = async (name: string) =>
      (await series(registry, CONDITION))
        .filter((s) => (s.labels as { type: string }).type === type)
        .filter((s) => (s.labels as { name: string }).name === name)
        .map((s) => [(s.labels as { status: string }).status, s.value]);
    expect(await of('hooked')).toEqual([
      ['True', 1],
      ['False', 0],
      ['Unknown', 0],
    ]);
    expect(await of('polled')).toEqual([
      ['True', 0],
      ['False', 0],
      ['Unknown', 0],
    ]);
  });
});

describe('IntegrationMetrics: runs', () => {
  const RUNS = 'tributary_runs_total';
  const DURATION = 'tributary_run_duration_seconds';
  const run = (outcome: RunRecord['outcome'], seconds: number): RunRecord => ({
    jobName: `stripe-s-${seconds}`,
    kind: 'sync',
    attempt: 1,
    startTime: '2026-01-05T10:00:00Z',
    completionTime: new Date(Date.UTC(2026, 0, 5, 10, 0, seconds)).toISOString(),
    outcome,
    stats: { read: 3, written: 2, unchanged: 1, quarantined: 0, failed: 0 },
  });
  const finished = (...records: RunRecord[]): Plan => ({ ...plan({}), finished: records });

  it('counts finished runs by namespace, name, kind and outcome', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observe(integration, finished(run('Failed', 4), run('Succeeded', 40)));
    metrics.observe(integration, finished(run('Succeeded', 50)));
    const labels = { namespace: NAMESPACE, name: NAME, kind: 'sync' };
    expect(await series(registry, RUNS)).toEqual([
      { labels: { ...labels, outcome: 'Failed' }, value: 1 },
      { labels: { ...labels, outcome: 'Succeeded' }, value: 2 },
    ]);
  });

  it("observes each run's duration from its start to its completion", async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observe(integration, finished(run('Succeeded', 40), run('Succeeded', 50)));
    // Histogram values carry the series name (_bucket, _sum, _count) prom-client does not type.
    const values = ((await registry.getSingleMetric(DURATION)?.get())?.values ?? []) as {
      metricName?: string;
      labels: Record<string, string | number>;
      value: number;
    }[];
    const labels = { namespace: NAMESPACE, name: NAME, kind: 'sync', outcome: 'Succeeded' };
    const bucket = (le: number) =>
      values.find((v) => v.metricName === `${DURATION}_bucket` && v.labels.le === le);
    expect(bucket(30)).toMatchObject({ labels: { ...labels, le: 30 }, value: 0 });
    expect(bucket(60)).toMatchObject({ labels: { ...labels, le: 60 }, value: 2 });
    expect(values.find((v) => v.metricName === `${DURATION}_sum`)).toMatchObject({
      labels,
      value: 90,
    });
  });

  it('drops every series of a deleted Integration, and only its own', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    const other = { namespace: NAMESPACE, name: 'other' };
    for (const object of [integration, other]) {
      metrics.observe(object, {
        ...finished(run('Succeeded', 40)),
        missed: 2,
        status: {
          lastSuccessfulSyncTime: '2026-01-05T10:00:40Z',
          deprecation: { message: 'deprecated', sunset: '2026-07-01T00:00:00Z' },
          drift: {
            checkTime: '2026-01-05T10:00:00Z',
            missing: 1,
            unexpected: 0,
            mismatched: 0,
            total: 1,
          },
          conditions: [],
        },
      });
      metrics.refused(object, 'JobRejected');
    }
    /** `family:name` of every series that names an Integration. */
    const named = async () => {
      const names = new Set<string>();
      for (const metric of await registry.getMetricsAsJSON()) {
        for (const value of metric.values) {
          const labels = value.labels as { name?: string };
          if (labels.name !== undefined) names.add(`${metric.name}:${labels.name}`);
        }
      }
      return [...names].sort();
    };
    const before = await named();
    // Every family that names an Integration has series of both before the delete.
    const families = [
      'tributary_runs_total',
      'tributary_run_duration_seconds',
      'tributary_records_total',
      'tributary_missed_runs_total',
      'tributary_last_successful_sync_timestamp_seconds',
      SUNSET,
      'tributary_drift_records',
      'tributary_integration_condition',
      'tributary_api_refusals_total',
    ];
    for (const family of families) expect(before).toContain(`${family}:${NAME}`);
    metrics.forget(NAMESPACE, NAME);
    expect(await named()).toEqual(before.filter((entry) => entry.endsWith(':other')));
  });
});
