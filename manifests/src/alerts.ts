/**
 * The alert rules Tributary ships, as data: one source for the plain Prometheus rules file, the
 * PrometheusRule object and the Helm chart. Every alert links to its runbook in
 * docs/operations.md ("Alerts and runbooks").
 *
 * Conventions, after the kubernetes-mixin and prometheus-operator rules: `critical` means no
 * Integration anywhere is being reconciled (page someone); `warning` means one Integration or
 * the operator needs attention during working hours; `info` is a heads-up.
 *
 * Per-Integration expressions aggregate `without (instance, pod)`, so a leader hand-over (a new
 * pod exports the series) neither resolves nor restarts an alert. Their labels are the
 * Integration's `namespace` and `name` (the scrape must keep them: `honorLabels: true`) and the
 * operator's target labels. One problem of an Integration raises one alert: NotReady covers what
 * no more specific alert (Stalled, Stale, Drifted) does.
 */
import { stringify } from 'yaml';
import type { ConditionType } from '../../operator/api/conditions.ts';

/** Where the runbooks live: the "Alerts and runbooks" section of docs/operations.md. */
export const RUNBOOK_BASE_URL =
  'https://github.com/tributary-dev/tributary/blob/main/docs/operations.md';

/**
 * Label matchers selecting the operator's scrape targets in `up`: by default the job a
 * ServiceMonitor on the Service `tributary-operator-metrics` gets. A selector that matches
 * nothing makes TributaryOperatorDown fire, so a wrong one is noticed, not silent.
 */
export const DEFAULT_OPERATOR_SELECTOR = 'job="tributary-operator-metrics"';

/** How urgent an alert is: `critical` pages, `warning` is a ticket, `info` is a heads-up. */
export type Severity = 'critical' | 'warning' | 'info';

/** One Prometheus alerting rule. */
export interface AlertRule {
  alert: string;
  expr: string;
  /** How long `expr` must hold before the alert fires, as a Prometheus duration. */
  for: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

/** One Prometheus rule group. */
export interface AlertRuleGroup {
  name: string;
  rules: AlertRule[];
}

/** Options of {@link alertRuleGroups}. */
export interface AlertOptions {
  /** Label matchers of the operator's targets in `up`. Default {@link DEFAULT_OPERATOR_SELECTOR}. */
  operatorSelector?: string;
}

/** Days before the announced sunset that TributaryIntegrationSunsetNear fires. */
const SUNSET_WARNING_DAYS = 30;
const SECONDS_PER_DAY = 86_400;

const INTEGRATION = '{{ $labels.namespace }}/{{ $labels.name }}';
const OPERATOR = 'the Tributary operator ({{ $labels.job }} in {{ $labels.namespace }})';

/** The condition gauge of `types` with `status`, as a label selector. */
function conditionSeries(
  types: readonly ConditionType[],
  status: 'True' | 'False' | 'Unknown',
): string {
  const type = types.length === 1 ? `type="${types.join('')}"` : `type=~"${types.join('|')}"`;
  return `tributary_integration_condition{${type}, status="${status}"}`;
}

/** `1` per Integration with a condition of `types` that has `status` now. */
function condition(types: readonly ConditionType[], status: 'True' | 'False' | 'Unknown'): string {
  return `max without (instance, pod, type, status) (${conditionSeries(types, status)}) == 1`;
}

/** `1` per Integration whose condition `type` had `status` at any time within `range`. */
function conditionWithin(type: ConditionType, status: 'True' | 'False', range: string): string {
  return `max without (instance, pod, type, status) (max_over_time(${conditionSeries([type], status)}[${range}])) == 1`;
}

/** Seconds until the sunset announced for each Integration (negative once it passed). */
const UNTIL_SUNSET =
  'min without (instance, pod) (tributary_integration_sunset_timestamp_seconds) - time()';
const SUNSET_NEAR = `${UNTIL_SUNSET} < ${SUNSET_WARNING_DAYS} * ${SECONDS_PER_DAY}`;

/** Lines joined into one expression, for readable multi-line rules. */
const lines = (...parts: string[]): string => parts.join('\n');

function rule(
  alert: string,
  severity: Severity,
  options: { expr: string; for: string; summary: string; description: string },
): AlertRule {
  return {
    alert,
    expr: options.expr,
    for: options.for,
    labels: { severity },
    annotations: {
      summary: options.summary,
      description: options.description,
      runbook_url: `${RUNBOOK_BASE_URL}#${alert.toLowerCase()}`,
    },
  };
}

function integrationRules(): AlertRule[] {
  return [
    rule('TributaryIntegrationNotReady', 'warning', {
      expr: lines(
        condition(['Ready'], 'False'),
        `unless on (namespace, name) (${condition(['Stale', 'Drifted', 'Suspended'], 'True')})`,
        `unless on (namespace, name) (${conditionWithin('Stalled', 'True', '15m')})`,
        '# the first sync is still running (bounded by timeouts.run)',
        `unless on (namespace, name) (`,
        `  ${condition(['Synced'], 'Unknown')}`,
        `  and on (namespace, name) ${condition(['Reconciling'], 'True')}`,
        ')',
      ),
      for: '15m',
      summary: `Integration ${INTEGRATION} has not been Ready for 15 minutes.`,
      description: `Ready has been False for 15 minutes: syncs keep failing and being retried, or more records are held in quarantine than quarantine.maxRecords (Degraded). The Ready condition's reason and message say which: kubectl describe integration -n {{ $labels.namespace }} {{ $labels.name }}`,
    }),
    rule('TributaryIntegrationStalled', 'warning', {
      expr: lines(
        conditionWithin('Stalled', 'True', '15m'),
        `and on (namespace, name) (${condition(['Ready'], 'False')})`,
      ),
      for: '10m',
      summary: `Integration ${INTEGRATION} has stalled and needs a human.`,
      description: `The Integration is (or was within the last 15 minutes) Stalled (invalid spec, missing ReconcilePolicy or Secret, credentials refused, configuration or NotFound error, every retry failed, or a run pod that cannot start) and not Ready. No run starts until the spec, the policy or a referenced Secret changes, a sync request, or the hourly probe (status.nextProbeTime). The Stalled condition's reason and message say what to fix: kubectl describe integration -n {{ $labels.namespace }} {{ $labels.name }}`,
    }),
    rule('TributaryIntegrationStale', 'warning', {
      expr: lines(
        condition(['Stale'], 'True'),
        `unless on (namespace, name) (${condition(['Suspended'], 'True')})`,
      ),
      for: '5m',
      summary: `Integration ${INTEGRATION} has not synced successfully within freshness.maxAge.`,
      description: `The last successful sync is older than the Integration's freshness.maxAge (MaxAgeExceeded): the platform's copy of this data is out of date. Look for why syncs fail or do not start: kubectl describe integration -n {{ $labels.namespace }} {{ $labels.name }}`,
    }),
    rule('TributaryIntegrationDrifted', 'warning', {
      expr: condition(['Drifted'], 'True'),
      for: '5m',
      summary: `Integration ${INTEGRATION} differs from its source beyond tolerance.`,
      description: `The last drift check found more missing, unexpected or mismatched records than drift.tolerance.records (DriftDetected). Counts and sample ids are in status.drift: kubectl get integration -n {{ $labels.namespace }} {{ $labels.name }} -o jsonpath='{.status.drift}'`,
    }),
    rule('TributaryIntegrationQuarantineGrowing', 'warning', {
      expr: lines(
        'sum without (instance, pod, result) (increase(tributary_records_total{result="quarantined"}[1h])) > 0',
        `unless on (namespace, name) (${condition(['Degraded'], 'True')})`,
      ),
      for: '1h',
      summary: `Integration ${INTEGRATION} keeps quarantining records.`,
      description: `Syncs have set records aside every hour for more than an hour ({{ $value | humanize }} in the last hour), below the Degraded threshold: those records are not in the platform. Reasons and sample ids are in status.quarantine: kubectl get integration -n {{ $labels.namespace }} {{ $labels.name }} -o jsonpath='{.status.quarantine}'`,
    }),
    rule('TributaryIntegrationSunsetNear', 'warning', {
      expr: SUNSET_NEAR,
      for: '1h',
      summary: `The provider sunsets what Integration ${INTEGRATION} calls within ${SUNSET_WARNING_DAYS} days.`,
      description: `The provider announced a sunset for the API version or resource this Integration calls, {{ $value | humanizeDuration }} from now (negative: passed). Move spec.source.apiVersion or resource to a supported one before then: kubectl get integration -n {{ $labels.namespace }} {{ $labels.name }} -o jsonpath='{.status.deprecation}'`,
    }),
    rule('TributaryIntegrationDeprecated', 'info', {
      expr: lines(
        condition(['Deprecated'], 'True'),
        `unless on (namespace, name) (${SUNSET_NEAR})`,
      ),
      for: '1h',
      summary: `The provider deprecated what Integration ${INTEGRATION} calls.`,
      description: `The provider announced a deprecation (Deprecation, Sunset or provider-specific headers) of the API version or resource this Integration calls; no sunset is announced within ${SUNSET_WARNING_DAYS} days. Plan the move: kubectl get integration -n {{ $labels.namespace }} {{ $labels.name }} -o jsonpath='{.status.deprecation}'`,
    }),
  ];
}

function operatorRules(selector: string): AlertRule[] {
  return [
    rule('TributaryOperatorDown', 'critical', {
      expr: `absent(up{${selector}} == 1)`,
      for: '10m',
      summary: 'No Tributary operator replica is up.',
      description: `Prometheus has scraped no operator replica (up{${selector}}) for 10 minutes: no Integration is being scheduled, retried or reported. Runs already started finish on their own.`,
    }),
    rule('TributaryOperatorNoLeader', 'critical', {
      expr: 'sum without (instance, pod) (tributary_leader) == 0',
      for: '5m',
      summary: `No replica of ${OPERATOR} holds the leader Lease.`,
      description: `Operator replicas are up but none has held the Lease tributary-operator for 5 minutes: no Integration is being reconciled.`,
    }),
    rule('TributaryOperatorMultipleLeaders', 'warning', {
      expr: 'sum without (instance, pod) (tributary_leader) > 1',
      for: '5m',
      summary: `{{ $value }} replicas of ${OPERATOR} claim to be leader.`,
      description: `More than one replica has reported holding the leader Lease for 5 minutes. Deterministic Job names still prevent duplicate runs, but status writes conflict. A replica that loses the Lease steps down within 10 seconds and exits: look for one that cannot tell it lost it, or for two operator Deployments scraped as one job that use different Leases.`,
    }),
    rule('TributaryOperatorReconcileErrors', 'warning', {
      expr: lines(
        'sum without (instance, pod, result) (rate(tributary_reconcile_total{result=~"error|terminal"}[5m]))',
        '/',
        'sum without (instance, pod, result) (rate(tributary_reconcile_total[5m]))',
        '> 0.1',
      ),
      for: '10m',
      summary: `{{ $value | humanizePercentage }} of ${OPERATOR}'s {{ $labels.controller }} reconciles fail.`,
      description: `More than 10% of reconciles of the {{ $labels.controller }} controller have ended in an error for 10 minutes: API requests are refused or failing. The operator's logs (level error or warn, with namespace and name) say which and why.`,
    }),
    rule('TributaryOperatorEventWritesFailing', 'warning', {
      expr: 'sum without (instance, pod, reason) (increase(tributary_event_write_failures_total[15m])) > 0',
      for: '15m',
      summary: `Event writes of ${OPERATOR} have been failing for 15 minutes.`,
      description: `The API server refused or did not answer {{ $value | humanize }} Event writes in the last 15 minutes, and it keeps happening. Status and metrics are still right, but kubectl describe and anything that reads Events miss what happened. The operator's warn logs "could not record Event" carry the API server's answer; check the operator's RBAC (create and patch on events) and the API server's health.`,
    }),
  ];
}

/** The alert rule groups, for an operator whose targets `options.operatorSelector` selects. */
export function alertRuleGroups(options: AlertOptions = {}): AlertRuleGroup[] {
  const selector = options.operatorSelector ?? DEFAULT_OPERATOR_SELECTOR;
  return [
    { name: 'tributary-integrations', rules: integrationRules() },
    { name: 'tributary-operator', rules: operatorRules(selector) },
  ];
}

/** The alert rule groups with the default operator selector. */
export const ALERT_RULE_GROUPS: readonly AlertRuleGroup[] = alertRuleGroups();

const HEADER =
  '# Generated by `npm run generate` from manifests/src/alerts.ts. Do not edit.\n' +
  '# Runbooks: docs/operations.md, "Alerts and runbooks".\n';

/** A plain Prometheus rules file (`groups:`) holding the alert rules. */
export function prometheusRulesYaml(options: AlertOptions = {}): string {
  return HEADER + stringify({ groups: alertRuleGroups(options) }, { lineWidth: 0, version: '1.1' });
}
