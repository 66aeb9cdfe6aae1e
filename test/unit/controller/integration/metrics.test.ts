import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { IntegrationStatus } from '../../../../operator/api/index.ts';
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
});
