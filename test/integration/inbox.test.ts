/**
 * The durable inbox's two engines pass one conformance suite (test/support/inbox-suite.ts):
 * embedded SQLite on a fresh file per case, NATS JetStream on a fresh stream per case of one real
 * nats-server (file storage, built by `npm run setup`) started for this file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxUnavailableError, type Inbox } from '../../operator/api/inbox.ts';
import { openJetStreamInbox } from '../../operator/intake/inbox/jetstream.ts';
import { openSqliteInbox } from '../../operator/intake/inbox/sqlite.ts';
import { startNatsServer, type NatsServer } from '../../dev/nats/server.ts';
import { inboxConformance, type InboxStore } from '../support/inbox-suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'tributary-inbox-'));
let nats: NatsServer | undefined;
let sequence = 0;

beforeAll(async () => {
  nats = await startNatsServer();
});

afterAll(async () => {
  await nats?.stop({ removeStore: true });
  rmSync(dir, { recursive: true, force: true });
});

inboxConformance({
  name: 'sqlite',
  fresh(): Promise<InboxStore> {
    const path = join(dir, `inbox-${(sequence += 1)}.db`);
    return Promise.resolve({
      open: () => openSqliteInbox({ path }),
      // Root ignores file modes, so read-only is the handle's: every write fails as on a
      // read-only volume.
      async breakStore() {
        const broken = await openSqliteInbox({ path, readOnly: true });
        return { broken, restore: () => broken.close() };
      },
    });
  },
});

inboxConformance({
  name: 'jetstream',
  fresh(): Promise<InboxStore> {
    const server = nats;
    if (server === undefined) throw new Error('nats-server did not start');
    const stream = `T${(sequence += 1)}`;
    const open = () => openJetStreamInbox({ servers: server.url, stream, timeoutMs: 1500 });
    return Promise.resolve({
      open,
      async breakStore(inbox: Inbox) {
        await server.stop();
        return { broken: inbox, restore: () => server.restart() };
      },
      restartServer: () => server.restart(),
    });
  },
});

describe('sqlite inbox retention', () => {
  it('drops a done body at once and its id after the dedupe window, on a later claim', async () => {
    const path = join(dir, `retention-${(sequence += 1)}.db`);
    const inbox = await openSqliteInbox({ path, dedupeWindowMs: 60_000, pruneEveryMs: 0 });
    const integration = { namespace: 'payments', name: 'stripe', uid: 'uid-r' };
    const delivery = { integration, id: 'evt_r', scheme: 'stripe' as const, eventType: 'x' };
    try {
      const now = Date.now();
      expect(await inbox.put({ ...delivery, receivedAt: now, body: '{"secret":"body"}' })).toBe(
        'stored',
      );
      const [claimed] = await inbox.claim(1, now, 30_000);
      expect(claimed?.id).toBe('evt_r');
      if (claimed !== undefined) await inbox.complete(claimed, undefined);
      const db = new DatabaseSync(path, { readOnly: true });
      expect(db.prepare('SELECT body, state FROM deliveries').all()).toEqual([
        { body: null, state: 'done' },
      ]);
      db.close();
      await inbox.claim(1, now + 30_000, 30_000);
      expect(await inbox.put({ ...delivery, receivedAt: now, body: '{}' })).toBe('duplicate');
      await inbox.claim(1, now + 120_000, 30_000);
      expect(await inbox.put({ ...delivery, receivedAt: now, body: '{}' })).toBe('stored');
    } finally {
      await inbox.close();
    }
  });
});

describe('jetstream inbox dedupe', () => {
  it('keeps dedupe beyond the broker duplicate window, through the seen bucket', async () => {
    const servers = nats?.url ?? '';
    const stream = `T${(sequence += 1)}`;
    const inbox = await openJetStreamInbox({ servers, stream, duplicateWindowMs: 500 });
    const integration = { namespace: 'payments', name: 'stripe', uid: 'uid-d' };
    const delivery = { integration, id: 'evt_d', scheme: 'stripe' as const, eventType: 'x' };
    try {
      expect(await inbox.put({ ...delivery, receivedAt: Date.now(), body: '{}' })).toBe('stored');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await inbox.put({ ...delivery, receivedAt: Date.now(), body: '{}' })).toBe(
        'duplicate',
      );
      expect((await inbox.stats(Date.now()))[0]).toMatchObject({ pending: 1, duplicate: 1 });
    } finally {
      await inbox.close();
    }
  });
});

describe('jetstream inbox against a hung server', () => {
  it('times out (InboxUnavailableError) instead of hanging, and recovers', async () => {
    const server = nats;
    const pid = server?.pid();
    if (server === undefined || pid === undefined) throw new Error('nats-server is not running');
    const stream = `T${(sequence += 1)}`;
    const inbox = await openJetStreamInbox({ servers: server.url, stream, timeoutMs: 1000 });
    const integration = { namespace: 'payments', name: 'stripe', uid: 'uid-h' };
    const delivery = { integration, id: 'evt_h', scheme: 'stripe' as const, eventType: 'x' };
    try {
      process.kill(pid, 'SIGSTOP');
      try {
        const put = inbox.put({ ...delivery, receivedAt: Date.now(), body: '{}' });
        await expect(put).rejects.toThrow(InboxUnavailableError);
        expect(await inbox.healthy()).toBe(false);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const deadline = Date.now() + 20_000;
      while (!(await inbox.healthy()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await inbox.put({ ...delivery, receivedAt: Date.now(), body: '{}' })).toBe('stored');
    } finally {
      await inbox.close();
    }
  });
});
