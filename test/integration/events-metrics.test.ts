/**
 * Events and metrics on the real control plane, written by the operator with its own RBAC:
 * every kind of condition transition reaches the API server as an Event, repeats of one Event
 * are one object with a count, and /metrics carries an Integration's run, duration and
 * condition series after a real run and none of them once it is deleted.
 */
import { readFileSync } from 'node:fs';
import { CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DRIFT_CHECK_REQUESTED_ANNOTATION } from '../../operator/api/index.ts';
import { KubeIntegrationWrites } from '../../operator/controller/integration/kube.ts';
import { KubeApi } from '../../operator/lib/kube/api.ts';
import { systemClock } from '../../operator/lib/clock.ts';
import { OPERATOR_NAMESPACE } from '../../manifests/src/app.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { cluster, createNamespace, deleteNamespaces } from '../support/cluster.ts';
import { Integrations } from '../support/integrations.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let operator: OperatorProcess;

const FAST_RETRY = { initialInterval: '2s', backoffCoefficient: 2, maxInterval: '4s' };
const HOURLY = { sync: { interval: '1h' } };

beforeAll(async () => {
  await installOperator(client);
  operator = await OperatorProcess.start(client, { identity: 'events-test-operator' });
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
});

afterEach(async () => {
  await deleteNamespaces(client);
});

afterAll(async () => {
  await operator.stop();
});

/** The Events on Integration `name` in `namespace`. */
async function eventsOf(namespace: string, name: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items;
}

/** Waits until Integration `name` has an Event of `type` and `reason`; returns it. */
function waitForEvent(namespace: string, name: string, type: string, reason: string) {
  return waitFor(
    `${namespace}/${name}: a ${type} ${reason} Event`,
    async () =>
      (await eventsOf(namespace, name)).find((e) => e.type === type && e.reason === reason),
    { timeoutMs: 90_000, intervalMs: 250 },
  );
}

describe('Events of condition transitions', () => {
  it('reach the API server for each transition, Warning when it goes wrong and Normal when it recovers', async () => {
    const integrations = new Integrations(client, await createNamespace(client, 'transitions'));
    const { namespace } = integrations;
    await integrations.create(
      'auth',
      { attempts: [{ outcome: 'Failed', class: 'Authentication', message: 'API key revoked' }] },
      { overrides: HOURLY },
    );
    await integrations.create(
      'flaky',
      { attempts: [{ outcome: 'Failed', class: 'ServerError', message: 'upstream 503' }, {}] },
      { overrides: { ...HOURLY, retry: { ...FAST_RETRY, jitter: 'None' } } },
    );
    await integrations.create('paused', {}, { suspend: true, overrides: HOURLY });
    await integrations.create(
      'troubled',
      {
        result: { quarantine: { count: 5 }, deprecation: { message: 'v1 is deprecated' } },
        drift: { missing: 2, unexpected: 0, mismatched: 1 },
      },
      { overrides: { ...HOURLY, quarantine: { maxRecords: 1 } } },
    );
    await integrations.create(
      'stale',
      {},
      { overrides: { ...HOURLY, freshness: { maxAge: '1m' } } },
    );

    // Stalled, then fixed by a spec change: Stalled is removed (Resolved) and Ready turns True.
    await waitForEvent(namespace, 'auth', 'Warning', 'AuthenticationFailed');
    await integrations.patch('auth', { spec: { connector: { config: { attempts: [{}] } } } });
    await waitForEvent(namespace, 'auth', 'Normal', 'Resolved');
    await waitForEvent(namespace, 'auth', 'Normal', 'Succeeded');
    // Synced=False on a failed attempt, then True after the retry.
    const failed = await waitForEvent(namespace, 'flaky', 'Warning', 'SyncFailed');
    expect(failed.message).toContain('upstream 503');
    await waitForEvent(namespace, 'flaky', 'Normal', 'Succeeded');
    // Suspended=True, then False.
    await waitForEvent(namespace, 'paused', 'Warning', 'Suspended');
    await integrations.patch('paused', { spec: { suspend: false } });
    await waitForEvent(namespace, 'paused', 'Normal', 'Suspended');
    // Degraded and Deprecated after the first sync, Drifted after a drift check.
    await waitForEvent(namespace, 'troubled', 'Warning', 'QuarantineExceeded');
    const deprecated = await waitForEvent(namespace, 'troubled', 'Warning', 'DeprecationAnnounced');
    expect(deprecated.message).toBe('v1 is deprecated');
    await integrations.patch('troubled', {
      metadata: { annotations: { [DRIFT_CHECK_REQUESTED_ANNOTATION]: 'now' } },
    });
    const drifted = await waitForEvent(namespace, 'troubled', 'Warning', 'DriftDetected');
    expect(drifted.message).toContain('2 missing, 0 unexpected, 1 mismatched');
    // Stale=True once freshness.maxAge passed since the last successful sync.
    await waitForEvent(namespace, 'stale', 'Normal', 'Succeeded');
    await waitForEvent(namespace, 'stale', 'Warning', 'MaxAgeExceeded');

    const all = (await core.listNamespacedEvent({ namespace })).items.filter(
      (e) => e.involvedObject.kind === 'Integration',
    );
    for (const event of all) {
      expect(event).toMatchObject({
        reportingComponent: 'tributary.dev/operator',
        reportingInstance: 'events-test-operator',
        source: { component: 'tributary-operator' },
      });
    }
    // A transition is one Event: no two objects of one Integration say the same.
    const keys = all.map((e) => `${e.involvedObject.name} ${e.type} ${e.reason} ${e.message}`);
    expect(keys.length).toBeGreaterThan(10);
    expect(new Set(keys).size).toBe(keys.length);
  }, 180_000);

  it('writes 20 repeats of one Event as one object with count 20, and writes it again after it expired', async () => {
    const integrations = new Integrations(client, await createNamespace(client, 'repeats'));
    const { namespace } = integrations;
    await integrations.create('repeated', {}, { suspend: true, overrides: HOURLY });
    const { metadata } = await integrations.get('repeated');
    // The operator's Event writer, as the operator's ServiceAccount (its RBAC, not admin's).
    const token = await client.serviceAccountToken(OPERATOR_NAMESPACE, 'tributary-operator');
    const writes = new KubeIntegrationWrites({
      api: new KubeApi({ kubeConfig: client.kubeConfigFor(token) }),
      clock: systemClock(),
      reportingInstance: 'repeat-test',
    });
    const ctx = { log: pino({ level: 'silent' }), signal: new AbortController().signal };
    const ref = { namespace, name: 'repeated', uid: metadata.uid };
    const event = {
      type: 'Warning' as const,
      reason: 'SyncFailed' as const,
      message: 'upstream 503',
    };
    for (let i = 0; i < 20; i++) await writes.recordEvent(ref, event, ctx);

    const mine = async () =>
      (await eventsOf(namespace, 'repeated')).filter((e) => e.reportingInstance === 'repeat-test');
    const [only, ...others] = await mine();
    expect(others).toEqual([]);
    expect(only).toMatchObject({ count: 20, type: 'Warning', reason: 'SyncFailed' });
    expect(only?.involvedObject.uid).toBe(metadata.uid);

    // The API server's TTL removes Events; a repeat after that creates the Event again.
    await core.deleteNamespacedEvent({ namespace, name: only?.metadata.name ?? '' });
    await writes.recordEvent(ref, event, ctx);
    const [again, ...more] = await mine();
    expect(more).toEqual([]);
    expect(again).toMatchObject({ count: 21, metadata: { name: only?.metadata.name } });
  });
});

describe('/metrics', () => {
  it('exports the default process and Node.js metrics unprefixed, and tributary_build_info', async () => {
    const body = (await operator.get('/metrics'))?.body ?? '';
    const names = new Set(body.split('\n').map((line) => /^[a-z_:]+/.exec(line)?.[0]));
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('process_resident_memory_bytes');
    expect(names).toContain('nodejs_heap_size_used_bytes');
    expect([...names].filter((name) => name?.startsWith('tributary_process_'))).toEqual([]);
    const version = process.version.slice(1);
    expect(body).toMatch(
      new RegExp(
        `^tributary_build_info\\{version="0\\.\\d+\\.\\d+[^"]*",revision="[^"]+",nodejs_version="${version.replaceAll('.', '\\.')}"\\} 1$`,
        'm',
      ),
    );
  });

  it("exports an Integration's run, duration and condition series after a real run, and drops them when it is deleted", async () => {
    const integrations = new Integrations(client, await createNamespace(client, 'metrics'));
    const { namespace } = integrations;
    await integrations.create('measured', { read: 4, sleepSeconds: 1 }, { overrides: HOURLY });
    await integrations.waitForCondition('measured', 'Ready', 'True', 'Succeeded');
    const series = (body: string) =>
      body.split('\n').filter((line) => line.includes(`namespace="${namespace}",name="measured"`));
    const labels = `namespace="${namespace}",name="measured",kind="sync",outcome="Succeeded"`;
    const scraped = await waitFor('the run in /metrics', async () => {
      const lines = series((await operator.get('/metrics'))?.body ?? '');
      return lines.some((line) => line.startsWith(`tributary_runs_total{${labels}} 1`))
        ? lines
        : undefined;
    });
    expect(scraped).toContain(`tributary_run_duration_seconds_count{${labels}} 1`);
    const sum = scraped.find((line) =>
      line.startsWith(`tributary_run_duration_seconds_sum{${labels}}`),
    );
    expect(Number(sum?.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
    const infinity = scraped.find(
      (line) =>
        line.startsWith('tributary_run_duration_seconds_bucket{') && line.includes('le="+Inf"'),
    );
    expect(infinity).toMatch(/ 1$/);
    expect(scraped).toContain(
      `tributary_integration_condition{namespace="${namespace}",name="measured",type="Ready",status="True"} 1`,
    );
    expect(scraped).toContain(
      `tributary_records_total{namespace="${namespace}",name="measured",result="read"} 4`,
    );

    expectRunLogged(namespace, 'measured');

    await client.kubectl(['delete', 'integration', '-n', namespace, 'measured', '--wait=true']);
    const left = await waitFor(
      'the series to be dropped',
      async () => {
        const lines = series((await operator.get('/metrics'))?.body ?? '');
        return lines.length === 0 ? lines : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(left).toEqual([]);
  });
});

/**
 * The operator's real log lines: string levels, ISO times, one `name` key (the object's; the
 * component is `logger`), and the run keys on "run started" of Integration `name`.
 */
function expectRunLogged(namespace: string, name: string): void {
  const raw = readFileSync(operator.logPath, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'));
  expect(raw.length).toBeGreaterThan(0);
  for (const text of raw) {
    const line = JSON.parse(text) as Record<string, unknown>;
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line.logger).toBe('tributary');
    // Top-level keys precede any nested error object in pino's output.
    const head = text.split('"err":')[0] ?? text;
    expect(head.match(/"name":/g)?.length ?? 0).toBeLessThanOrEqual(1);
  }
  const started = raw
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((l) => l.msg === 'run started' && l.namespace === namespace && l.name === name);
  expect(started).toMatchObject({ integration: name, kind: 'sync', attempt: 1 });
  expect(started?.uid).toMatch(/^[0-9a-f-]{36}$/);
  expect(started?.job).toMatch(new RegExp(`^${name}-`));
  expect(started?.dueTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
}
