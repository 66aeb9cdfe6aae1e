import { describe, expect, it } from 'vitest';
import { DestinationSimulator } from '../../../dev/simulators/destination.ts';
import { call, control, field, started } from './support.ts';

function put(base: string, id: string, body: Record<string, unknown>, key?: string) {
  return call(`${base}/customers/${id}`, {
    method: 'PUT',
    body,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
}

describe('DestinationSimulator', () => {
  it('applies the first use of a key and answers a repeated key 409 without changing state', async () => {
    const dest = await started(new DestinationSimulator());
    const first = await put(dest.url, 'c1', { email: 'a@x.test', version: 1 }, 'k1');
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: 'c1', email: 'a@x.test', version: 1 });
    const repeat = await put(dest.url, 'c1', { email: 'changed@x.test', version: 1 }, 'k1');
    expect(repeat.status).toBe(409);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(field(repeat.body, 'error')).toMatchObject({
      code: 'duplicate_idempotency_key',
      key: 'k1',
    });
    expect(dest.get('customers', 'c1')).toEqual({ id: 'c1', email: 'a@x.test', version: 1 });
    const update = await put(dest.url, 'c1', { email: 'b@x.test', version: 2 }, 'k2');
    expect(update.status).toBe(200);
    expect(dest.appliesFor('customers', 'c1')).toBe(2);
    expect(dest.keyRecord('k1')).toEqual({
      collection: 'customers',
      id: 'c1',
      method: 'PUT',
      received: 2,
      applied: 1,
      differentBody: 1,
    });
    expect(dest.stats().destination).toEqual({
      writesReceived: 3,
      writesByMethod: { PUT: 3 },
      applied: 2,
      duplicates: 1,
      keyReusedWithDifferentBody: 1,
      rejected: 0,
      conflicts: 0,
      invalid: 0,
      unkeyed: 0,
      keys: 2,
      recordsStored: 1,
      byCollection: { customers: 1 },
      recordsAppliedMoreThanOnce: 1,
    });
  });

  it('replays a repeated key with 200 and Idempotent-Replayed: true when configured', async () => {
    const dest = await started(new DestinationSimulator({ onDuplicateKey: 'replay' }));
    const first = await put(dest.url, 'c1', { n: 1 }, 'k1');
    const replay = await put(dest.url, 'c1', { n: 1 }, 'k1');
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(dest.stats().destination).toMatchObject({
      writesReceived: 2,
      applied: 1,
      duplicates: 1,
    });
    await control(dest.url, 'config', { onDuplicateKey: 'conflict' });
    expect((await put(dest.url, 'c1', { n: 1 }, 'k1')).status).toBe(409);
  });

  it('rejects writes of chosen ids with 422 and a reason, without consuming the key', async () => {
    const dest = await started(
      new DestinationSimulator({ reject: { ids: ['bad'], reason: 'email domain blocked' } }),
    );
    const rejected = await put(dest.url, 'bad', { email: 'x' }, 'kb');
    expect(rejected.status).toBe(422);
    expect(field(rejected.body, 'error')).toEqual({
      code: 'rejected',
      message: 'email domain blocked',
      id: 'bad',
    });
    expect(dest.get('customers', 'bad')).toBeUndefined();
    dest.clearRejections();
    expect((await put(dest.url, 'bad', { email: 'x' }, 'kb')).status).toBe(201);
    await control(dest.url, 'reject', { ids: ['other'], status: 400, reason: 'nope' });
    expect((await put(dest.url, 'other', {}, 'ko')).status).toBe(400);
    expect(dest.stats().destination).toMatchObject({ rejected: 2, applied: 1 });
  });

  it('unique-constraint mode: another id with the same value is a 409 without the replay header', async () => {
    const dest = await started(new DestinationSimulator());
    expect((await put(dest.url, 'c1', { email: 'a@x.test' }, 'k1')).status).toBe(201);
    expect(await control(dest.url, 'unique', { field: 'email' })).toEqual({
      unique: { field: 'email' },
    });
    const conflict = await put(dest.url, 'c2', { email: 'a@x.test' }, 'k2');
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('idempotent-replayed')).toBeNull();
    expect(field(conflict.body, 'error')).toMatchObject({
      code: 'unique_violation',
      field: 'email',
      conflictsWith: 'c1',
    });
    expect(dest.get('customers', 'c2')).toBeUndefined();
    expect(dest.keyRecord('k2')).toBeUndefined();
    // The holder itself may rewrite its value; a replay of an applied key is still a replay.
    expect((await put(dest.url, 'c1', { email: 'a@x.test', n: 2 }, 'k1b')).status).toBe(200);
    const replay = await put(dest.url, 'c1', { email: 'a@x.test' }, 'k1');
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([409, 'true']);
    // Null and absent values are never unique; a PATCH is judged on the merged record.
    expect((await put(dest.url, 'c3', { email: null }, 'k3')).status).toBe(201);
    expect((await put(dest.url, 'c4', {}, 'k4')).status).toBe(201);
    const patch = await call(`${dest.url}/customers/c4`, {
      method: 'PATCH',
      body: { email: 'a@x.test' },
      headers: { 'idempotency-key': 'k4b' },
    });
    expect(patch.status).toBe(409);
    // Once the holder moves to another value, its old value is free.
    expect((await put(dest.url, 'c1', { email: 'b@x.test' }, 'k1c')).status).toBe(200);
    expect((await put(dest.url, 'c2', { email: 'a@x.test' }, 'k2')).status).toBe(201);
    expect(dest.stats().destination).toMatchObject({ conflicts: 2, duplicates: 1 });
    const off = await call(`${dest.url}/__control/unique`, { method: 'DELETE' });
    expect(off.body).toEqual({ unique: null });
    expect((await put(dest.url, 'c5', { email: 'a@x.test' }, 'k5')).status).toBe(201);
  });

  it('unique-constraint mode indexes records stored before it was switched on, per collection', async () => {
    const dest = await started(new DestinationSimulator());
    dest.insert('customers', 'old', { email: 'o@x.test' });
    dest.insert('vendors', 'v1', { email: 'v@x.test' });
    dest.setUniqueConstraint({ field: 'email', collection: 'customers' });
    expect((await put(dest.url, 'new', { email: 'o@x.test' }, 'kn')).status).toBe(409);
    const vendor = await call(`${dest.url}/vendors/v2`, {
      method: 'PUT',
      body: { email: 'v@x.test' },
      headers: { 'idempotency-key': 'kv' },
    });
    expect(vendor.status).toBe(201);
    dest.remove('customers', 'old');
    expect((await put(dest.url, 'new', { email: 'o@x.test' }, 'kn')).status).toBe(201);
  });

  it('rejects by predicate', async () => {
    const dest = await started(
      new DestinationSimulator({
        rejectWhen: (w) => (typeof w.body?.email === 'string' ? undefined : 'email required'),
      }),
    );
    expect((await put(dest.url, 'a', { email: 'a@x.test' }, 'ka')).status).toBe(201);
    const seen = await put(dest.url, 'b', { email: 7 }, 'kb');
    expect(seen.status).toBe(422);
    expect(field(field(seen.body, 'error'), 'message')).toBe('email required');
  });

  it('PATCH merges, DELETE removes, POST upserts; a body that is not a JSON object is 400', async () => {
    const dest = await started(new DestinationSimulator());
    await call(`${dest.url}/customers/c1`, { method: 'POST', body: { a: 1, b: 1 } });
    await call(`${dest.url}/customers/c1`, { method: 'PATCH', body: { b: 2 } });
    expect(dest.get('customers', 'c1')).toEqual({ id: 'c1', a: 1, b: 2 });
    expect((await call(`${dest.url}/customers/c1`)).body).toEqual({ id: 'c1', a: 1, b: 2 });
    expect((await call(`${dest.url}/customers/c1`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`${dest.url}/customers/c1`)).status).toBe(404);
    expect((await call(`${dest.url}/customers/c2`, { method: 'PUT', body: [1] })).status).toBe(400);
    expect(dest.stats().destination).toMatchObject({
      writesReceived: 4,
      applied: 3,
      unkeyed: 3,
      invalid: 1,
    });
  });

  it('requires a key and a bearer token when configured', async () => {
    const dest = await started(
      new DestinationSimulator({ token: 't0k', requireIdempotencyKey: true }),
    );
    expect((await put(dest.url, 'c1', {}, 'k')).status).toBe(401);
    const headers = { authorization: 'Bearer t0k' };
    expect(
      (await call(`${dest.url}/customers/c1`, { method: 'PUT', body: {}, headers })).status,
    ).toBe(400);
    const ok = await call(`${dest.url}/customers/c1`, {
      method: 'PUT',
      body: {},
      headers: { ...headers, 'idempotency-key': 'k' },
    });
    expect(ok.status).toBe(201);
    expect((await call(`${dest.url}/customers`)).status).toBe(401);
  });

  it('lists every stored record exactly once by ascending id through next_cursor', async () => {
    const dest = await started(new DestinationSimulator());
    const stored = Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    for (const id of [...stored].reverse()) dest.insert('customers', id, { email: `${id}@x.test` });
    const listed: unknown[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const seen = await call(`${dest.url}/customers?limit=10&cursor=${cursor}`);
      listed.push(...(field(seen.body, 'items') as { id: string }[]).map((item) => item.id));
      cursor = field(seen.body, 'next_cursor') as string | null;
      pages += 1;
    }
    expect(listed).toEqual(stored);
    expect(pages).toBe(3);
    expect(field((await call(`${dest.url}/orders`)).body, 'items')).toEqual([]);
  });

  it('direct manipulation changes records without counting as writes', async () => {
    const dest = await started(new DestinationSimulator());
    await put(dest.url, 'c1', { email: 'a@x.test' }, 'k1');
    dest.alter('customers', 'c1', { email: 'tampered@x.test' });
    dest.insert('customers', 'ghost', { email: 'g@x.test' });
    await control(dest.url, 'records', [
      { op: 'put', collection: 'customers', id: 'c2', body: { email: 'c2@x.test' } },
      { op: 'delete', collection: 'customers', id: 'ghost' },
    ]);
    expect(dest.records('customers')).toEqual([
      { id: 'c1', email: 'tampered@x.test' },
      { id: 'c2', email: 'c2@x.test' },
    ]);
    expect(dest.stats().destination).toMatchObject({
      writesReceived: 1,
      applied: 1,
      recordsStored: 2,
    });
    expect(dest.stats().requests.total).toBe(1);
    expect(field(await control(dest.url, 'writes'), 'appliesByRecord')).toEqual({
      'customers/c1': 1,
    });
  });

  it('fails halfway: every write after N successful writes answers 503 and changes nothing', async () => {
    const dest = await started(new DestinationSimulator());
    await control(dest.url, 'faults', [
      {
        type: 'serverError',
        status: 503,
        method: 'PUT',
        scope: { kind: 'afterWrites', writes: 5 },
      },
    ]);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await put(dest.url, `c${i}`, { i }, `k${i}`)).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201, 503, 503, 503]);
    expect(dest.stats().destination).toMatchObject({
      writesReceived: 8,
      applied: 5,
      recordsStored: 5,
    });
    expect(dest.stats().requests.byRoute['PUT /customers/:id']).toEqual({ '201': 5, '503': 3 });
    // The destination recovers; the client replays everything with the same keys.
    dest.clearFaults();
    const replay: number[] = [];
    for (let i = 0; i < 8; i++) replay.push((await put(dest.url, `c${i}`, { i }, `k${i}`)).status);
    expect(replay).toEqual([409, 409, 409, 409, 409, 201, 201, 201]);
    for (let i = 0; i < 8; i++) expect(dest.appliesFor('customers', `c${i}`)).toBe(1);
  });

  it('a connection reset after applying leaves the write applied; the retry is a duplicate', async () => {
    const dest = await started(new DestinationSimulator());
    dest.addFaults([{ type: 'connectionReset', limit: 1 }]);
    await expect(put(dest.url, 'c1', { a: 1 }, 'k1')).rejects.toThrow();
    expect((await put(dest.url, 'c1', { a: 1 }, 'k1')).status).toBe(409);
    expect(dest.appliesFor('customers', 'c1')).toBe(1);
    expect(dest.stats().destination).toMatchObject({
      writesReceived: 2,
      applied: 1,
      duplicates: 1,
    });
  });

  it('reset clears data, keys and counters unless keepData', async () => {
    const dest = await started(new DestinationSimulator());
    await put(dest.url, 'c1', {}, 'k1');
    await control(dest.url, 'reset', { keepData: true });
    expect(dest.stats().destination).toMatchObject({
      writesReceived: 0,
      recordsStored: 1,
      keys: 1,
    });
    await control(dest.url, 'reset', {});
    expect(dest.stats().destination).toMatchObject({ recordsStored: 0, keys: 0 });
    expect((await put(dest.url, 'c1', {}, 'k1')).status).toBe(201);
  });
});
