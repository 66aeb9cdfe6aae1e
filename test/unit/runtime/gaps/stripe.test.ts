import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulators, type RunningSimulators } from '../../../../dev/simulators/index.ts';
import { eventId } from '../../../../dev/simulators/stripe-events.ts';
import { decodeCheckpoint } from '../../../../operator/runtime/checkpoint.ts';
import type { ResultBody } from '../../../../operator/runtime/result.ts';
import { runSync } from '../../../../operator/runtime/sync.ts';
import { instantClock, runInput, silentLog } from '../support.ts';
import { sqliteStore, startIntakeStandIn, type SqliteStore } from './intake.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const UID = 'uid-stripe-gaps';
const at = (hhmmss: string) => Date.parse(`2025-01-01T${hhmmss}Z`);
const seconds = (hhmmss: string) => at(hhmmss) / 1000;
const evt = (seq: number) => eventId('customers', seq);
const ROUTE_URL = 'https://hooks.example.test/hooks/payments/customers';

interface World {
  sims: RunningSimulators;
  stores: SqliteStore[];
  /** Runs one pass at `now` (HH:MM:SS) from `checkpoint`. */
  pass(now: string, checkpoint: string | undefined, eventTypes?: string[]): Promise<ResultBody>;
  /** Updates customers at `hhmmss` (one event each, in index order). */
  update(indexes: number[], hhmmss: string): void;
  /** The intake `n` stored the delivery of event `seq`. */
  deliver(seq: number, n?: number): Promise<void>;
  /** Paths the Stripe simulator was asked. */
  paths(): string[];
}

async function world(intakeCount = 2, extraIntake: string[] = []): Promise<World> {
  const sims = await startSimulators({ seed: 5, records: 12, stripe: true, destination: true });
  cleanups.push(() => sims.stop());
  const stores: SqliteStore[] = [];
  const urls: string[] = [];
  for (let n = 0; n < intakeCount; n++) {
    const store = await sqliteStore();
    cleanups.push(() => store.close());
    const intake = await startIntakeStandIn(store.inbox);
    cleanups.push(() => intake.stop());
    stores.push(store);
    urls.push(intake.url);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tributary-stripe-gaps-'));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const stripe = sims.stripe;
  const described = sims.describe();
  if (stripe === undefined || described.stripe === undefined) throw new Error('no stripe');
  stripe.setWebhookEndpoints([{ url: ROUTE_URL, status: 'enabled' }]);
  const key = described.stripe.apiKey;
  return {
    sims,
    stores,
    pass: (now, checkpoint, eventTypes) =>
      runSync({
        input: runInput({
          integration: { namespace: 'payments', name: 'customers', uid: UID },
          source: {
            provider: 'stripe',
            baseURL: described.stripe?.url,
            resource: 'customers',
            credentialsRef: { name: 'stripe', key: 'key' },
          },
          destination: { url: `${described.destination?.url ?? ''}/customers/{id}` },
          webhook: {
            intake: [...urls, ...extraIntake],
            grace: '2m',
            ...(eventTypes === undefined ? {} : { eventTypes }),
          },
          ...(checkpoint === undefined ? {} : { checkpoint }),
        }),
        credentials: { source: key },
        resultPath: join(dir, 'result'),
        log: silentLog(),
        clock: instantClock(at(now)),
        random: () => 0,
        pageSize: 5,
      }),
    update: (indexes, hhmmss) => {
      stripe.dataset('customers').update(indexes, seconds(hhmmss));
    },
    async deliver(seq, n = 0) {
      await stores[n]?.store(UID, evt(seq));
    },
    paths: () => stripe.requests().map((r) => r.path),
  };
}

const checkpointOf = (result: ResultBody) => {
  const decoded = decodeCheckpoint(result.checkpoint);
  if (!decoded.ok) throw new Error(decoded.problem);
  return decoded.checkpoint;
};

describe('sync pass gap detection from the Stripe events log', () => {
  it('the first pass judges nothing and sets the judge mark at start − grace', async () => {
    const w = await world();
    w.update([0], '09:59:00');
    const first = await w.pass('10:00:00', undefined);
    expect(first.outcome).toBe('Succeeded');
    expect(first.webhook).toBeUndefined();
    expect(checkpointOf(first).mark).toBe('2025-01-01T09:58:00.000Z');
    expect(w.paths()).not.toContain('/v1/events');
  });

  it('events every delivery carried, in one intake or the other: missed 0', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    w.update([0, 1, 2], '10:03:00');
    w.update([0], '10:04:00');
    await w.deliver(1, 0);
    await w.deliver(2, 1);
    await w.deliver(3, 0);
    await w.deliver(4, 1);
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.outcome).toBe('Succeeded');
    expect(second.webhook).toEqual({ changed: 4, missed: 0, endpointDisabled: false });
    // The pass read (and wrote) every customer: no object is re-read by id.
    expect(second.stats).toMatchObject({ read: 12, failed: 0 });
    expect(w.paths().filter((p) => p.startsWith('/v1/customers/'))).toEqual([]);
  });

  it('events no intake stored: missed with their event ids; the pass wrote the objects', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    w.update([0, 1, 2], '10:03:00');
    w.update([3, 4], '10:05:00');
    await w.deliver(1, 0);
    await w.deliver(4, 1);
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.webhook).toEqual({
      changed: 5,
      missed: 3,
      // Newest first, as the log lists them.
      missedSamples: [evt(5), evt(3), evt(2)],
      endpointDisabled: false,
    });
    for (const index of [0, 1, 2, 3, 4])
      expect(
        w.sims.destination?.appliesFor('customers', `cus_${String(index).padStart(8, '0')}`),
      ).toBe(2);
    const third = await w.pass('10:20:00', second.checkpoint);
    expect(third.webhook).toEqual({ changed: 0, missed: 0, endpointDisabled: false });
  });

  it('an event inside the grace is judged by the next pass, once', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    w.update([5], '10:03:00');
    w.update([6], '10:09:30'); // 30 s before the pass: inside the 2 min grace
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.webhook).toMatchObject({ changed: 1, missed: 1, missedSamples: [evt(1)] });
    expect(checkpointOf(second).mark).toBe('2025-01-01T10:08:00.000Z');
    const third = await w.pass('10:20:00', second.checkpoint);
    expect(third.webhook).toMatchObject({ changed: 1, missed: 1, missedSamples: [evt(2)] });
    const fourth = await w.pass('10:30:00', third.checkpoint);
    expect(fourth.webhook).toMatchObject({ changed: 0, missed: 0 });
  });

  it('spec.webhook.eventTypes: only those types are judged', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    w.update([0, 1], '10:03:00');
    const second = await w.pass('10:10:00', first.checkpoint, ['customer.deleted']);
    expect(second.webhook).toMatchObject({ changed: 0, missed: 0 });
    expect(w.sims.stripe?.requests().find((r) => r.path === '/v1/events')?.query).toContain(
      'types%5B%5D=customer.deleted',
    );
  });

  it('the endpoint posting to the route is disabled: reported', async () => {
    const w = await world();
    w.sims.stripe?.setWebhookEndpoints([
      { url: 'https://elsewhere.example.test/hooks/payments/other', status: 'enabled' },
      { url: ROUTE_URL, status: 'disabled' },
    ]);
    const first = await w.pass('10:00:00', undefined);
    w.update([0], '10:03:00');
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.webhook).toEqual({
      changed: 1,
      missed: 1,
      missedSamples: [evt(1)],
      endpointDisabled: true,
    });
  });

  it.each([403, 404] as const)(
    'a %s on the endpoint list (a restricted key): no endpoint status, the events still judged',
    async (status) => {
      const w = await world();
      w.sims.stripe?.refuseWebhookEndpoints(status);
      const first = await w.pass('10:00:00', undefined);
      w.update([0], '10:03:00');
      await w.deliver(1);
      const second = await w.pass('10:10:00', first.checkpoint);
      expect(second.outcome).toBe('Succeeded');
      expect(second.webhook).toEqual({ changed: 1, missed: 0 });
    },
  );

  it('an intake that cannot be asked: unavailable says which, the pass succeeds', async () => {
    const refused = await startIntakeStandIn();
    await refused.stop();
    const w = await world(1, [refused.url]);
    const first = await w.pass('10:00:00', undefined);
    w.update([0, 1], '10:03:00');
    await w.deliver(1);
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.outcome).toBe('Succeeded');
    expect(second.webhook).toEqual({
      changed: 2,
      missed: 1,
      missedSamples: [evt(2)],
      unavailable: `${refused.url}: connection refused`,
      endpointDisabled: false,
    });
  });

  it('an events log that cannot be read: no report, the mark stays for the next pass', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    w.update([0], '10:03:00');
    w.sims.stripe?.addFaults([{ type: 'unauthorized', path: '/v1/events' }]);
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.outcome).toBe('Succeeded');
    expect(second.webhook).toBeUndefined();
    expect(checkpointOf(second).mark).toBe(checkpointOf(first).mark);
    w.sims.stripe?.clearFaults();
    const third = await w.pass('10:20:00', second.checkpoint);
    expect(third.webhook).toMatchObject({ changed: 1, missed: 1, missedSamples: [evt(1)] });
  });
});
