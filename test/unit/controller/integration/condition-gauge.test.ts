import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConditionGauge } from '../../../../operator/controller/integration/condition-gauge.ts';

const condition = (type: string, status: 'True' | 'False' | 'Unknown') => ({
  type,
  status,
  reason: 'R',
  message: 'm',
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

async function exposition(gauge: ConditionGauge): Promise<string[]> {
  const registry = new Registry();
  registry.registerMetric(gauge.asMetric());
  return (await registry.metrics()).split('\n');
}

describe('ConditionGauge', () => {
  it('exposes three series per type, 1 for the current status, in the text format', async () => {
    const gauge = new ConditionGauge();
    gauge.set('ns', 'a', [condition('Ready', 'False')]);
    const lines = await exposition(gauge);
    expect(lines).toContain('# TYPE tributary_integration_condition gauge');
    expect(lines).toContain(
      'tributary_integration_condition{namespace="ns",name="a",type="Ready",status="False"} 1',
    );
    expect(lines).toContain(
      'tributary_integration_condition{namespace="ns",name="a",type="Ready",status="True"} 0',
    );
    // A built-in type without a condition: all three at 0.
    expect(lines).toContain(
      'tributary_integration_condition{namespace="ns",name="a",type="Synced",status="Unknown"} 0',
    );
  });

  it('adds a type it does not know, only for the Integrations that have it', async () => {
    const gauge = new ConditionGauge();
    gauge.set('ns', 'a', [condition('Custom', 'True')]);
    gauge.set('ns', 'b', [condition('Ready', 'True')]);
    const lines = await exposition(gauge);
    expect(lines).toContain(
      'tributary_integration_condition{namespace="ns",name="a",type="Custom",status="True"} 1',
    );
    expect(lines.filter((l) => l.includes('name="b"') && l.includes('Custom'))).toEqual([]);
  });

  it('replaces an Integration on set and drops it on remove', async () => {
    const gauge = new ConditionGauge();
    gauge.set('ns', 'a', [condition('Ready', 'False')]);
    gauge.set('ns', 'a', [condition('Ready', 'True')]);
    let values = (await gauge.get()).values.filter(
      (v) => v.labels.type === 'Ready' && v.value === 1,
    );
    expect(values.map((v) => v.labels.status)).toEqual(['True']);
    gauge.remove('ns', 'a');
    values = (await gauge.get()).values;
    expect(values).toEqual([]);
  });
});
