/** The webhook's status and conditions from the intake's figures and the syncs' gap checks. */
import { describe, expect, it } from 'vitest';
import type {
  IntakeIntegrationStats,
  IntakeStats,
  WebhookSpec,
  WebhookStatus,
} from '../../../../operator/api/index.ts';
import {
  aggregateStats,
  webhookConditions,
  webhookStatus,
  webhookWakeups,
  type IntakeView,
} from '../../../../operator/controller/integration/webhook.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const SPEC: WebhookSpec = {
  scheme: 'stripe',
  secretRefs: [{ name: 'w', key: 'k' }],
  silence: { window: '1h' },
};

function row(overrides: Partial<IntakeIntegrationStats> = {}): IntakeIntegrationStats {
  return {
    namespace: 'pay',
    name: 'customers',
    uid: 'u1',
    accepted: 3,
    duplicate: 1,
    rejected: 0,
    ignored: 0,
    pending: 1,
    deadLettered: 0,
    recentAccepted: 3,
    recentRejected: 0,
    ...overrides,
  };
}

const stats = (store: string, rows: IntakeIntegrationStats[]): IntakeStats => ({
  version: 'tributary.dev/intake-stats/v1',
  store,
  engine: 'sqlite',
  integrations: rows,
});

describe('aggregateStats', () => {
  it('sums stores, counts a shared store once, keeps the newest event and the oldest pending', () => {
    const a = row({
      lastEventTime: '2026-03-01T11:00:00Z',
      lastEventId: 'evt_a',
      oldestPendingTime: '2026-03-01T10:00:00Z',
    });
    const b = row({
      accepted: 2,
      lastEventTime: '2026-03-01T11:30:00Z',
      lastEventId: 'evt_b',
      oldestPendingTime: '2026-03-01T10:30:00Z',
    });
    const map = aggregateStats(
      [
        { url: 'http://a', stats: stats('sqlite:a', [a]) },
        { url: 'http://b', stats: stats('sqlite:b', [b]) },
        { url: 'http://b2', stats: stats('sqlite:b', [b]) },
      ],
      NOW.getTime(),
    );
    expect(map.get('u1')).toMatchObject({
      accepted: 5,
      pending: 2,
      lastEventId: 'evt_b',
      oldestPendingTime: '2026-03-01T10:00:00Z',
    });
    expect(map.get('u1')?.partial).toBeUndefined();
  });

  it('says which replicas could not be read', () => {
    const map = aggregateStats(
      [
        { url: 'http://a', stats: stats('s', [row()]) },
        { url: 'http://b', error: 'connection refused' },
      ],
      NOW.getTime(),
    );
    expect(map.get('u1')?.partial).toBe('http://b: connection refused');
  });
});

const view = (overrides: Partial<IntakeIntegrationStats> = {}): IntakeView => ({
  observation: { ...row(overrides), observedTime: NOW.getTime() },
  problem: undefined,
});

function status(overrides: Partial<WebhookStatus> = {}): WebhookStatus {
  return {
    ...webhookStatus({
      namespace: 'pay',
      name: 'customers',
      previous: undefined,
      view: view(),
      finished: [],
      now: new Date('2026-03-01T09:00:00Z'),
    }),
    ...overrides,
  };
}

const types = (spec: WebhookSpec, s: WebhookStatus, v: IntakeView) =>
  Object.fromEntries(
    webhookConditions(spec, s, v, NOW).map((c) => [c.type, `${c.status}/${c.reason}`]),
  );

describe('webhookStatus', () => {
  it('takes the figures, the route, and folds gap checks oldest first', () => {
    const s = webhookStatus({
      namespace: 'pay',
      name: 'customers',
      previous: undefined,
      view: view({ lastEventTime: '2026-03-01T11:00:00Z', lastEventId: 'evt_1' }),
      finished: [
        {
          completionTime: '2026-03-01T11:50:00Z',
          result: {
            version: 'tributary.dev/result/v1',
            outcome: 'Succeeded',
            webhook: { changed: 4, missed: 0 },
          },
        },
        {
          completionTime: '2026-03-01T11:40:00Z',
          result: {
            version: 'tributary.dev/result/v1',
            outcome: 'Succeeded',
            webhook: { changed: 3, missed: 2, missedSamples: ['a', 'b'] },
          },
        },
      ] as never,
      now: NOW,
    });
    expect(s).toMatchObject({
      route: '/hooks/pay/customers',
      accepted: 3,
      lastEventId: 'evt_1',
      missed: 2,
      since: '2026-03-01T12:00:00Z',
    });
    expect(s.lastGapCheck).toEqual({ time: '2026-03-01T11:50:00Z', changed: 4, missed: 0 });
    expect(s.missedSamples).toBeUndefined();
    expect(s.lastSourceChangeTime).toBe('2026-03-01T11:50:00Z');
  });

  it('takes endpointDisabled from the last pass that reported it, and drops it when not known', () => {
    const pass = (time: string, webhook: Record<string, unknown>) => ({
      completionTime: time,
      result: { version: 'tributary.dev/result/v1', outcome: 'Succeeded', webhook },
    });
    const fold = (previous: WebhookStatus | undefined, finished: unknown[]) =>
      webhookStatus({
        namespace: 'pay',
        name: 'customers',
        previous,
        view: view(),
        finished: finished as never,
        now: NOW,
      });
    const disabled = fold(undefined, [
      pass('2026-03-01T11:50:00Z', { changed: 2, missed: 2, endpointDisabled: true }),
      pass('2026-03-01T11:40:00Z', { changed: 1, missed: 0, endpointDisabled: false }),
    ]);
    expect(disabled.endpointDisabled).toBe(true);
    const silent = webhookConditions(SPEC, disabled, view(), NOW)[0];
    expect(silent).toMatchObject({ status: 'True', reason: 'EndpointDisabled' });
    expect(silent?.message).toMatch(/re-enable it in the Stripe dashboard/);
    const enabled = fold(disabled, [
      pass('2026-03-01T12:00:00Z', { changed: 0, missed: 0, endpointDisabled: false }),
    ]);
    expect(enabled.endpointDisabled).toBe(false);
    expect(types(SPEC, enabled, view())['WebhookSilent']).not.toBe('True/EndpointDisabled');
    const unknown = fold(disabled, [pass('2026-03-01T12:00:00Z', { changed: 0, missed: 0 })]);
    expect(unknown.endpointDisabled).toBeUndefined();
    expect(fold(disabled, []).endpointDisabled).toBe(true);
  });
});

describe('webhookConditions', () => {
  const changedRecently = { lastSourceChangeTime: '2026-03-01T11:30:00Z' };
  it.each([
    [
      'deliveries within the window',
      status({ lastEventTime: '2026-03-01T11:30:00Z', ...changedRecently }),
      'False/DeliveriesArriving',
    ],
    [
      'nothing arrived, source changed',
      status({ lastEventTime: '2026-03-01T10:00:00Z', ...changedRecently }),
      'True/NoDeliveries',
    ],
    ['nothing ever arrived, source changed', status(changedRecently), 'True/NoDeliveries'],
    [
      'nothing arrived, source quiet',
      status({ lastEventTime: '2026-03-01T10:00:00Z' }),
      'False/SourceQuiet',
    ],
    [
      'source changed before the window',
      status({ lastSourceChangeTime: '2026-03-01T10:30:00Z' }),
      'False/SourceQuiet',
    ],
    [
      'webhook set up less than a window ago',
      status({ ...changedRecently, since: '2026-03-01T11:20:00Z' }),
      'False/SourceQuiet',
    ],
  ])('WebhookSilent: %s', (_what, s, expected) => {
    expect(types(SPEC, s, view())['WebhookSilent']).toBe(expected);
  });

  it('WebhookSilent is Unknown when no intake can be read', () => {
    expect(
      types(SPEC, status(), {
        observation: undefined,
        problem: 'no ready intake replica was found',
      })['WebhookSilent'],
    ).toBe('Unknown/IntakeUnavailable');
  });

  it.each([
    ['no pass yet', status(), 'Unknown/AwaitingFirstRun'],
    [
      'a pass found none',
      status({ lastGapCheck: { time: 't', changed: 5, missed: 0 } }),
      'False/NoMissedEvents',
    ],
    [
      'a pass found some',
      status({ lastGapCheck: { time: 't', changed: 5, missed: 2 }, missedSamples: ['a'] }),
      'True/ChangesWithoutDelivery',
    ],
    [
      'a pass could not ask',
      status({ lastGapCheck: { time: 't', changed: 5, missed: 0, unavailable: 'refused' } }),
      'Unknown/IntakeUnavailable',
    ],
  ])('EventsMissed: %s', (_what, s, expected) => {
    expect(types(SPEC, s, view())['EventsMissed']).toBe(expected);
  });

  it.each([
    [{ recentAccepted: 1, recentRejected: 9 }, 'True/SignaturesRejected'],
    [{ recentAccepted: 6, recentRejected: 4 }, 'False/SignaturesVerified'],
    [{ recentAccepted: 0, recentRejected: 4 }, 'False/SignaturesVerified'],
  ])('WebhookRejecting for %o', (recent, expected) => {
    expect(types(SPEC, status(), view(recent))['WebhookRejecting']).toBe(expected);
  });
});

describe('webhookWakeups', () => {
  it('wakes when the silence window runs out after the last delivery and after a source change', () => {
    const s = status({
      lastEventTime: '2026-03-01T11:30:00Z',
      lastSourceChangeTime: '2026-03-01T11:45:00Z',
    });
    expect(webhookWakeups(SPEC, s, NOW).map((d) => d.toISOString())).toEqual([
      '2026-03-01T12:30:01.000Z',
      '2026-03-01T12:45:01.000Z',
    ]);
    expect(webhookWakeups(undefined, s, NOW)).toEqual([]);
  });
});
