/**
 * One stored delivery applied through the sync's own parts, against local HTTP servers for the
 * source and the destination: the same idempotency key as a poll of the same record, fetch mode
 * writing the current record, the stale-version guard, and what is retried or dead-lettered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimedDelivery } from '../../../../operator/api/inbox.ts';
import type { Integration, WebhookSpec } from '../../../../operator/api/index.ts';
import { Agent } from 'undici';
import { connectRun } from '../../../../operator/runtime/connect.ts';
import { idempotencyKey } from '../../../../operator/runtime/destination.ts';
import { applyDelivery } from '../../../../operator/runtime/webhook/apply.ts';
import { webhookRunInput } from '../../../../operator/runtime/webhook/connections.ts';
import { instantClock, sendJSON, silentLog, startServer, type Handler } from '../support.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const UID = 'uid-7';
const CURRENT = { id: 'cus_1', email: 'new@example.com', updated_at: '2026-03-02T00:00:00Z' };
const OLD = { id: 'cus_1', email: 'old@example.com', updated_at: '2026-03-01T00:00:00Z' };

async function server(handler: Handler) {
  const s = await startServer(handler);
  cleanups.push(() => s.close());
  return s;
}

/** A source that serves CURRENT at /items/cus_1 and 404 for any other id. */
const source: Handler = (req, res) => {
  if (req.url === '/items/cus_1') sendJSON(res, CURRENT);
  else sendJSON(res, { error: 'not found' }, 404);
};

async function setup(
  webhook: Partial<WebhookSpec>,
  destination: Handler = (_r, res) => {
    sendJSON(res, {}, 200);
  },
) {
  const [src, dst] = [await server(source), await server(destination)];
  const integration: Integration = {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'Integration',
    metadata: { name: 'customers', namespace: 'payments', uid: UID, generation: 1 },
    spec: {
      source: {
        provider: 'http',
        baseURL: src.url,
        http: {
          path: '/items',
          itemPath: '/items/{id}',
          idField: 'id',
          updatedField: 'updated_at',
        },
      },
      destination: { url: `${dst.url}/customers/{id}` },
      schema: { required: ['id', 'email'] },
      webhook: { scheme: 'standard', secretRefs: [{ name: 's', key: 'k' }], ...webhook },
    },
  };
  const dispatcher = new Agent();
  cleanups.push(() => dispatcher.close());
  const input = webhookRunInput(integration, Date.UTC(2026, 2, 3));
  const parts = connectRun(
    { input, credentials: {}, log: silentLog(), clock: instantClock(), retry: { maxRetries: 0 } },
    'sync',
    dispatcher,
    5000,
  );
  return { integration, parts, src, dst };
}

function delivery(body: unknown, eventType = 'customer.updated'): ClaimedDelivery {
  return {
    integration: { namespace: 'payments', name: 'customers', uid: UID },
    id: 'msg_1',
    scheme: 'standard',
    eventType,
    receivedAt: 0,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attempts: 0,
    claim: 'c1',
  };
}

const event = (object: unknown) => ({
  type: 'customer.updated',
  timestamp: '2026-03-02T00:00:00Z',
  data: object,
});

describe('applyDelivery', () => {
  it('payload mode writes the event object with the key a poll of the same version uses', async () => {
    const { integration, parts, dst } = await setup({ mode: 'payload' });
    const outcome = await applyDelivery(delivery(event(CURRENT)), {
      integration,
      parts,
      appliedVersion: () => Promise.resolve(undefined),
    });
    expect(outcome).toEqual({
      kind: 'applied',
      effect: 'written',
      applied: { recordId: 'cus_1', version: CURRENT.updated_at },
    });
    expect(dst.requests).toHaveLength(1);
    expect(dst.requests[0]?.url).toBe('/customers/cus_1');
    expect(dst.requests[0]?.headers['idempotency-key']).toBe(
      idempotencyKey(UID, 'cus_1', CURRENT.updated_at),
    );
    expect(JSON.parse(dst.requests[0]?.body ?? '{}')).toEqual(CURRENT);
  });

  it('fetch mode re-reads the record: an old event writes the current version', async () => {
    const { integration, parts, dst, src } = await setup({ mode: 'fetch' });
    const outcome = await applyDelivery(delivery(event(OLD)), {
      integration,
      parts,
      appliedVersion: () => Promise.resolve(undefined),
    });
    expect(outcome).toMatchObject({ kind: 'applied', applied: { version: CURRENT.updated_at } });
    expect(src.requests.map((r) => r.url)).toEqual(['/items/cus_1']);
    expect(JSON.parse(dst.requests[0]?.body ?? '{}')).toEqual(CURRENT);
  });

  it('a version not newer than the applied one writes nothing', async () => {
    const { integration, parts, dst } = await setup({ mode: 'payload' });
    for (const applied of [CURRENT.updated_at, '2026-03-05T00:00:00Z']) {
      const outcome = await applyDelivery(delivery(event(CURRENT)), {
        integration,
        parts,
        appliedVersion: () => Promise.resolve(applied),
      });
      expect(outcome.kind).toBe('skipped');
    }
    const newer = await applyDelivery(delivery(event(CURRENT)), {
      integration,
      parts,
      appliedVersion: () => Promise.resolve(OLD.updated_at),
    });
    expect(newer.kind).toBe('applied');
    expect(dst.requests).toHaveLength(1);
  });

  it('a record gone at the source is skipped in fetch mode', async () => {
    const { integration, parts, dst } = await setup({ mode: 'fetch' });
    const outcome = await applyDelivery(delivery(event({ ...OLD, id: 'cus_gone' })), {
      integration,
      parts,
      appliedVersion: () => Promise.resolve(undefined),
    });
    expect(outcome).toMatchObject({ kind: 'skipped' });
    expect(dst.requests).toHaveLength(0);
  });

  it.each([
    ['a body that is not JSON', 'not json', /InvalidPayload: the verified body is not JSON/],
    ['an event without its object', { type: 'customer.updated' }, /InvalidPayload: no object/],
    [
      'an object without an id',
      event({ email: 'x@example.com' }),
      /InvalidPayload: the object has no id/,
    ],
    [
      'a record the contract refuses',
      event({ id: 'cus_1', updated_at: 'x' }),
      /InvalidRecord: .*email/,
    ],
  ])('%s is dead-lettered with the reason', async (_what, body, reason) => {
    const { integration, parts, dst } = await setup({ mode: 'payload' });
    const outcome = await applyDelivery(delivery(body), {
      integration,
      parts,
      appliedVersion: () => Promise.resolve(undefined),
    });
    expect(outcome.kind).toBe('dead');
    expect(outcome.kind === 'dead' ? outcome.error : '').toMatch(reason);
    expect(dst.requests).toHaveLength(0);
  });

  it('a destination refusal of the record is dead-lettered; a 503 is retried', async () => {
    const refusing = await setup({ mode: 'payload' }, (_r, res) => {
      sendJSON(res, { error: 'bad' }, 422);
    });
    const refused = await applyDelivery(delivery(event(CURRENT)), {
      ...refusing,
      appliedVersion: () => Promise.resolve(undefined),
    });
    expect(refused).toMatchObject({ kind: 'dead', error: expect.stringMatching(/422/) as unknown });
    const down = await setup({ mode: 'payload' }, (_r, res) => {
      sendJSON(res, { error: 'down' }, 503);
    });
    const retried = await applyDelivery(delivery(event(CURRENT)), {
      ...down,
      appliedVersion: () => Promise.resolve(undefined),
    });
    expect(retried).toMatchObject({
      kind: 'retry',
      error: expect.stringMatching(/^ServerError/) as unknown,
    });
  });

  it('an Integration whose webhook was removed is skipped', async () => {
    const { integration, parts } = await setup({ mode: 'payload' });
    const spec = { ...integration.spec, webhook: undefined };
    const outcome = await applyDelivery(delivery(event(CURRENT)), {
      integration: { ...integration, spec },
      parts,
      appliedVersion: () => Promise.resolve(undefined),
    });
    expect(outcome.kind).toBe('skipped');
  });
});
