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

/**
 * Label matchers selecting the webhook intake's scrape targets in `up`: by default the job a
 * ServiceMonitor on the headless Service `tributary-intake-metrics` gets. As with the operator,
 * a selector that matches nothing makes TributaryIntakeUnavailable (critical) fire, once some
 * Integration has spec.webhook.
 */
export const DEFAULT_INTAKE_SELECTOR = 'job="tributary-intake-metrics"';

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
  /** Label matchers of the intake's targets in `up`. Default {@link DEFAULT_INTAKE_SELECTOR}. */
  intakeSelector?: string;
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

const WEBHOOK_STATUS =
  "kubectl get integration -n {{ $labels.namespace }} {{ $labels.name }} -o jsonpath='{.status.webhook}'";
/** Seconds a delivery may wait before TributaryWebhookBacklog counts it as stuck. */
const BACKLOG_SECONDS = 600;

/**
 * Per-Integration webhook alerts. One problem raises one alert: a webhook whose signatures are
 * refused is also silent and misses events, so SignaturesRejected covers both, and Silent
 * covers EventsMissed.
 */
function webhookRules(): AlertRule[] {
  return [
    rule('TributaryWebhookSilent', 'warning', {
      expr: lines(
        condition(['WebhookSilent'], 'True'),
        `unless on (namespace, name) (${condition(['WebhookRejecting'], 'True')})`,
      ),
      for: '15m',
      summary: `No webhook delivery reaches Integration ${INTEGRATION} while its source changes.`,
      description: `WebhookSilent has been True for 15 minutes: no verified delivery arrived within spec.webhook.silence.window although a sync found the source changing (NoDeliveries), or the provider reports the endpoint disabled (EndpointDisabled). The syncs keep backfilling, at their pace. The condition's message and status.webhook say more: ${WEBHOOK_STATUS}`,
    }),
    rule('TributaryWebhookEventsMissed', 'warning', {
      expr: lines(
        condition(['EventsMissed'], 'True'),
        `unless on (namespace, name) (${condition(['WebhookSilent', 'WebhookRejecting'], 'True')})`,
      ),
      for: '5m',
      summary: `Webhooks of Integration ${INTEGRATION} miss changes of its source.`,
      description: `The last sync found source changes that no delivery carried, and wrote them (EventsMissed, ChangesWithoutDelivery): the provider drops or fails some deliveries, or filters them (spec.webhook.eventTypes). Counts and sample ids are in status.webhook (missed, missedSamples, lastGapCheck): ${WEBHOOK_STATUS}`,
    }),
    rule('TributaryWebhookSignaturesRejected', 'warning', {
      expr: condition(['WebhookRejecting'], 'True'),
      for: '10m',
      summary: `Most webhook deliveries to Integration ${INTEGRATION} fail verification.`,
      description: `WebhookRejecting has been True for 10 minutes (SignaturesRejected): the intake answered 401 to most deliveries of the last 15 minutes and stored none of them; the provider retries them for a while. Usually a signing secret rotated at the provider and not in spec.webhook.secretRefs. The condition's message quotes the last refusal: kubectl describe integration -n {{ $labels.namespace }} {{ $labels.name }}`,
    }),
    rule('TributaryWebhookDeadLetters', 'warning', {
      expr: 'max without (instance, pod) (tributary_webhook_dead_lettered) > 0',
      for: '10m',
      summary: `Integration ${INTEGRATION} holds {{ $value }} dead-lettered webhook deliveries.`,
      description: `Deliveries failed every attempt to apply them and are held, not applied (dead-lettered). The intake's logs name the error; once fixed, re-drive them: kubectl annotate integration -n {{ $labels.namespace }} {{ $labels.name }} tributary.dev/webhook-redrive-requested-at="$(date -u +%FT%TZ)" --overwrite`,
    }),
    rule('TributaryWebhookBacklog', 'warning', {
      expr: `max without (instance, pod) (tributary_webhook_oldest_pending_seconds) > ${BACKLOG_SECONDS}`,
      for: '10m',
      summary: `A webhook delivery to Integration ${INTEGRATION} has waited {{ $value | humanizeDuration }}.`,
      description: `The oldest stored delivery not yet applied is more than ${BACKLOG_SECONDS / 60} minutes old, for 10 minutes: the intake's workers do not keep up or keep retrying (a slow or failing destination, fetch mode's provider calls rate-limited). Depth and age: ${WEBHOOK_STATUS}`,
    }),
  ];
}

/**
 * TributaryIntakeUnavailable, twice: warning while the intake answers 503 or a replica is down,
 * critical when no intake replica is up while some Integration has spec.webhook (its webhook
 * conditions exist), so an install without webhooks needs no intake.
 */
function intakeRules(selector: string): AlertRule[] {
  const noneUp = `absent(up{${selector}} == 1)`;
  const webhooks = 'max(tributary_integration_condition{type="WebhookSilent"}) == 1';
  return [
    rule('TributaryIntakeUnavailable', 'warning', {
      expr: lines(
        '(',
        '  sum without (instance, pod, result) (rate(tributary_intake_requests_total{result="unavailable"}[5m])) > 0',
        `  or count without (instance, pod) (up{${selector}} == 0) > 0`,
        ')',
        `unless on () ${noneUp}`,
      ),
      for: '5m',
      summary:
        'The webhook intake ({{ $labels.job }} in {{ $labels.namespace }}) answers 503 or has a replica down.',
      description: `For 5 minutes the intake has answered 503 to deliveries (its store cannot commit them: nothing is stored or acknowledged) or some of its replicas have not been scraped. Senders retry, but Shopify deletes a subscription after 4 hours of failures, and with SQLite the deliveries a down replica stored wait for it. Its logs say why: kubectl logs -n {{ $labels.namespace }} statefulset/tributary-intake`,
    }),
    rule('TributaryIntakeUnavailable', 'critical', {
      expr: `${noneUp} and on () (${webhooks})`,
      for: '5m',
      summary: 'No webhook intake replica is up.',
      description: `Prometheus has scraped no intake replica (up{${selector}}) for 5 minutes while Integrations have spec.webhook: no delivery is acknowledged or applied. Senders retry for a while (Shopify 4 hours, then it deletes the subscription); the syncs keep backfilling.`,
    }),
  ];
}

/**
 * The alert rule groups, for an operator and an intake whose targets `options.operatorSelector`
 * and `options.intakeSelector` select.
 */
export function alertRuleGroups(options: AlertOptions = {}): AlertRuleGroup[] {
  const selector = options.operatorSelector ?? DEFAULT_OPERATOR_SELECTOR;
  const intakeSelector = options.intakeSelector ?? DEFAULT_INTAKE_SELECTOR;
  return [
    { name: 'tributary-integrations', rules: integrationRules() },
    { name: 'tributary-operator', rules: operatorRules(selector) },
    { name: 'tributary-webhooks', rules: [...webhookRules(), ...intakeRules(intakeSelector)] },
  ];
}

/** The alert rule groups with the default operator and intake selectors. */
export const ALERT_RULE_GROUPS: readonly AlertRuleGroup[] = alertRuleGroups();

const HEADER =
  '# Generated by `npm run generate` from manifests/src/alerts.ts. Do not edit.\n' +
  '# Runbooks: docs/operations.md, "Alerts and runbooks".\n';

/** A plain Prometheus rules file (`groups:`) holding the alert rules. */
export function prometheusRulesYaml(options: AlertOptions = {}): string {
  return HEADER + stringify({ groups: alertRuleGroups(options) }, { lineWidth: 0, version: '1.1' });
}
