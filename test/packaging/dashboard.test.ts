/**
 * The shipped Grafana dashboard: every panel query is valid PromQL (promtool parses each as a
 * recording rule, template variables substituted) and reads only metrics the operator or the
 * webhook intake exports.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { IntegrationMetrics } from '../../operator/controller/integration/metrics.ts';
import { IntakeMetrics } from '../../operator/intake/metrics.ts';
import { ROOT } from '../fixtures/manifests.ts';
import { runTool } from '../tools/tools.ts';
import { metricNames, registeredMetricNames } from './promql.ts';

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
}
interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'charts', 'tributary', 'dashboards', 'tributary.json'), 'utf8'),
) as Dashboard;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const queries = panels.flatMap((panel) =>
  (panel.targets ?? []).flatMap((target, index) =>
    target.expr === undefined ? [] : [{ panel, index, expr: target.expr }],
  ),
);

/** Grafana's built-in interval variables, and a regex for every dashboard variable. */
function substituteVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval\b|\$\{__rate_interval\}/g, '5m')
    .replace(/\$__interval\b|\$\{__interval\}/g, '1m')
    .replace(/\$__range\b|\$\{__range\}/g, '1h')
    .replace(/\$\{?\w+\}?/g, '.*');
}

const dir = mkdtempSync(join(tmpdir(), 'tributary-dashboard-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the Grafana dashboard', () => {
  it('is tributary-overview, on a Prometheus chosen by the ${datasource} variable', () => {
    expect(dashboard.uid).toBe('tributary-overview');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const variables = dashboard.templating.list.map((variable) => variable.name);
    expect(variables).toEqual(['datasource', 'namespace', 'integration']);
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
      }
    }
  });

  it('has panel ids that are unique', () => {
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('queries valid PromQL (`promtool check rules`)', () => {
    expect(queries.length).toBeGreaterThan(10);
    const rules = queries.map(({ panel, index, expr }) => ({
      record: `dashboard:panel_${panel.id}_${index}`,
      expr: substituteVariables(expr),
    }));
    const file = join(dir, 'dashboard-queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }, { lineWidth: 0 }));
    const run = runTool('promtool', ['check', 'rules', file]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('SUCCESS');
    expect(run.code).toBe(0);
  });

  it('filters every query of Integration series by the namespace and integration variables', () => {
    const registry = new Registry();
    new IntegrationMetrics(registry);
    new IntakeMetrics(registry, () => Promise.resolve([]), Date.now);
    const perIntegration = registry
      .getMetricsAsArray()
      .filter((metric) => {
        const labels = (metric as unknown as { labelNames: string[] }).labelNames;
        return labels.includes('namespace') && labels.includes('name');
      })
      .map((metric) => (metric as unknown as { name: string }).name);
    expect(perIntegration).toContain('tributary_runs_total');
    expect(perIntegration).toContain('tributary_run_duration_seconds');
    expect(perIntegration).toContain('tributary_webhook_inbox_depth');
    const read = queries.filter(({ expr }) =>
      perIntegration.some((name) => new RegExp(`\\b${name}(_bucket|_sum|_count)?\\b`).test(expr)),
    );
    expect(read.map(({ panel }) => panel.title)).toEqual(
      expect.arrayContaining([
        'Runs by outcome',
        'Run duration',
        'Failed runs by Integration',
        'Inbox depth',
        'Dead-lettered deliveries',
        'Signature failures',
        'Webhooks silent, missing events, rejecting',
      ]),
    );
    for (const { panel, expr } of read) {
      expect(expr, panel.title).toContain('namespace=~"$namespace"');
      expect(expr, panel.title).toContain('name=~"$integration"');
    }
  });

  it('reads only metrics the operator or the intake registers', async () => {
    const registered = await registeredMetricNames();
    for (const { panel, expr } of queries) {
      for (const name of metricNames(substituteVariables(expr))) {
        expect(registered, `panel "${panel.title}" reads ${name}`).toContain(name);
      }
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      const selector = /^label_values\((.*),\s*\w+\)$/.exec(query)?.[1] ?? '';
      expect(metricNames(substituteVariables(selector)), variable.name).not.toEqual([]);
      for (const name of metricNames(substituteVariables(selector))) {
        expect(registered, `variable ${variable.name} reads ${name}`).toContain(name);
      }
    }
  });
});
