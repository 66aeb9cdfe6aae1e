/**
 * Helpers for checking the PromQL Tributary ships (alert rules, dashboard panels): the metric
 * names the operator and the webhook intake register, and the metric names an expression reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { IntegrationMetrics } from '../../operator/controller/integration/metrics.ts';
import { ControllerMetrics } from '../../operator/controller/machinery/metrics.ts';
import { IntakeMetrics } from '../../operator/intake/metrics.ts';
import { registerBuildInfo } from '../../operator/lib/build-info.ts';
import { ROOT } from '../fixtures/manifests.ts';

/** The prefix of the default process metrics, as operator.ts registers them ('' for none). */
function defaultMetricsPrefix(): string {
  const source = readFileSync(join(ROOT, 'operator', 'controller', 'operator.ts'), 'utf8');
  const call = /collectDefaultMetrics\(\{([^}]*)\}/.exec(source)?.[1];
  if (call === undefined) throw new Error('operator.ts no longer calls collectDefaultMetrics');
  return /prefix: '([^']+)'/.exec(call)?.[1] ?? '';
}

/**
 * Every series name the operator and the intake export: their families, with histogram and
 * summary suffixes (the intake's own process metrics excepted: nothing we ship reads them).
 */
export async function registeredMetricNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: defaultMetricsPrefix() });
  registerBuildInfo(registry);
  new ControllerMetrics({ registry });
  new IntegrationMetrics(registry);
  new IntakeMetrics(registry, () => Promise.resolve([]), Date.now);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const { name } = metric;
    // prom-client types `type` as a numeric enum; at run time it is the exposition type name.
    const type = String(metric.type);
    names.add(name);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

const KEYWORDS = new Set([
  ...['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'],
  ...['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'],
]);

/**
 * The metric names a PromQL expression selects. A small lexer, enough for the expressions we
 * write: strings, label matchers, ranges, grouping clauses, numbers, durations and comments are
 * dropped; an identifier followed by `(` is a function or aggregation, any other is a metric.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#.*$/gm, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[0-9][\w.]*|[a-zA-Z_:][\w:]*/g)) {
    const token = match[0];
    if (/^[0-9]/.test(token) || KEYWORDS.has(token.toLowerCase())) continue;
    const rest = stripped.slice(match.index + token.length);
    if (/^\s*\(/.test(rest)) continue;
    names.add(token);
  }
  return [...names];
}
