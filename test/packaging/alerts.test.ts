/**
 * The shipped alert rules: promtool accepts them, its unit tests (fixtures/alerts.test.yaml) see
 * every alert fire when it should and stay quiet when it should not, every alert reads only
 * metrics the operator or the webhook intake exports, and every runbook link lands on a heading of docs/operations.md.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ALERT_RULE_GROUPS,
  prometheusRulesYaml,
  RUNBOOK_BASE_URL,
} from '../../manifests/src/alerts.ts';
import { ROOT } from '../fixtures/manifests.ts';
import { runTool } from '../tools/tools.ts';
import { metricNames, registeredMetricNames } from './promql.ts';

const RULES = ALERT_RULE_GROUPS.flatMap((group) => group.rules);
const FIXTURE = join(import.meta.dirname, 'fixtures', 'alerts.test.yaml');

const dir = mkdtempSync(join(tmpdir(), 'tributary-alerts-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes the generated rules as `rules.yaml` (the name the promtool tests refer to). */
function writeRules(): string {
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, prometheusRulesYaml());
  return file;
}

/** GitHub's anchor for a Markdown heading (github-slugger), without the duplicate suffix. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of the headings of a Markdown document, outside code blocks. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? undefined : /^#{1,6}\s+(.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    let anchor = githubSlug(heading);
    for (let n = 1; anchors.has(anchor); n++) anchor = `${githubSlug(heading)}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

describe('the alert rules', () => {
  it('pass `promtool check rules`', () => {
    const run = runTool('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', writeRules()]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('SUCCESS');
    expect(run.code).toBe(0);
  });

  it('pass the promtool unit tests in fixtures/alerts.test.yaml', () => {
    writeRules();
    const tests = join(dir, 'alerts.test.yaml');
    copyFileSync(FIXTURE, tests);
    const run = runTool('promtool', ['test', 'rules', tests]);
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.code).toBe(0);
  });

  it('each fire in some promtool unit test, at each severity it has', () => {
    const fixture = parse(readFileSync(FIXTURE, 'utf8')) as {
      tests: {
        alert_rule_test: {
          alertname: string;
          exp_alerts?: { exp_labels?: { severity?: string } }[];
        }[];
      }[];
    };
    const fired = new Set(
      fixture.tests
        .flatMap((test) => test.alert_rule_test)
        .flatMap((check) =>
          (check.exp_alerts ?? []).map((a) => `${check.alertname} ${a.exp_labels?.severity}`),
        ),
    );
    // An alert may have two rules of two severities (TributaryIntakeUnavailable).
    const rules = new Set(RULES.map((rule) => `${rule.alert} ${rule.labels.severity}`));
    expect([...fired].sort()).toEqual([...rules].sort());
  });

  it('read only metrics the operator or the intake registers (and `up`)', async () => {
    const registered = await registeredMetricNames();
    registered.add('up');
    for (const rule of RULES) {
      const names = metricNames(rule.expr);
      expect(names, rule.alert).not.toEqual([]);
      for (const name of names) expect(registered, `${rule.alert} reads ${name}`).toContain(name);
    }
  });

  it('link each to a runbook heading in docs/operations.md', () => {
    const anchors = headingAnchors(readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8'));
    for (const rule of RULES) {
      const [base, anchor = ''] = rule.annotations.runbook_url.split('#');
      expect(base).toBe(RUNBOOK_BASE_URL);
      expect(anchors, `${rule.alert}: no heading for #${anchor}`).toContain(anchor);
    }
  });

  it('label every alert with a severity and describe it per Integration or operator', () => {
    for (const rule of RULES) {
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).not.toBe('');
      expect(rule.annotations.description, rule.alert).not.toBe('');
    }
  });
});

describe('metricNames', () => {
  it('finds metrics, not functions, label names, durations or keywords', () => {
    expect(
      metricNames(
        'sum without (instance, pod) (rate(a_total{result=~"error|x"}[5m] offset 1h)) / on (job) group_left b > 0.1 unless c # d',
      ),
    ).toEqual(['a_total', 'b', 'c']);
  });
});
