/**
 * The durable inbox's two engines pass one conformance suite (test/support/inbox-suite.ts):
 * embedded SQLite on a fresh file per case, NATS JetStream on a fresh stream per case of one real
 * nats-server (file storage, built by `npm run setup`) started for this file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Inbox } from '../../operator/api/inbox.ts';
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
