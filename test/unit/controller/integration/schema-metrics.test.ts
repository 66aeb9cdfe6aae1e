import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { IntegrationStatus } from '../../../../operator/api/index.ts';
import { IntegrationMetrics } from '../../../../operator/controller/integration/metrics.ts';
import type { Plan } from '../../../../operator/controller/integration/plan.ts';
import { NAME, NAMESPACE } from './fixtures.ts';

const GAUGE = 'tributary_schema_changes';
const integration = { namespace: NAMESPACE, name: NAME };

function plan(status: IntegrationStatus): Plan {
  return { status, prune: [], events: [], missed: 0, finished: [] };
}

async function series(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(GAUGE);
  if (metric === undefined) throw new Error(`${GAUGE} is not registered`);
  const values = (await metric.get()).values;
  return Object.fromEntries(
    values.map(({ labels, value }) => [
      `${String(labels.namespace)}/${String(labels.name)}/${String(labels.change)}`,
      value,
    ]),
  );
}

describe('IntegrationMetrics: tributary_schema_changes', () => {
  it('counts the added and removed fields of status.schemaChanges, 0 when none', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observe(
      integration,
      plan({ schemaChanges: { added: ['vip', 'lines[].qty'], removed: ['billing.address.city'] } }),
    );
    expect(await series(registry)).toEqual({
      [`${NAMESPACE}/${NAME}/added`]: 2,
      [`${NAMESPACE}/${NAME}/removed`]: 1,
    });
    metrics.observe(integration, plan({}));
    expect(await series(registry)).toEqual({
      [`${NAMESPACE}/${NAME}/added`]: 0,
      [`${NAMESPACE}/${NAME}/removed`]: 0,
    });
  });

  it('drops the series of a deleted Integration', async () => {
    const registry = new Registry();
    const metrics = new IntegrationMetrics(registry);
    metrics.observe(integration, plan({ schemaChanges: { removed: ['phone'] } }));
    metrics.forget(NAMESPACE, NAME);
    expect(await series(registry)).toEqual({});
  });
});
