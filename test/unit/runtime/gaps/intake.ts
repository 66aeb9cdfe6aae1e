/**
 * Stand-ins for intake stores in gap detection tests: the real `/match` route (operator/intake/
 * match.ts) on the real health server, over the real SQLite inbox (`sqliteInbox`: a delivery is
 * put, claimed and completed with its applied version, as the workers do) or a minimal in-memory
 * inbox that implements only `appliedVersion` (`appliedInbox`: `down` makes it throw
 * InboxUnavailableError, and it counts lookups).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { InboxUnavailableError, type Inbox } from '../../../../operator/api/index.ts';
import { openSqliteInbox } from '../../../../operator/intake/inbox/sqlite.ts';
import { matchHandler } from '../../../../operator/intake/match.ts';
import { HealthServer } from '../../../../operator/lib/health-server.ts';

/** An inbox that knows applied versions only; every other method throws. */
export interface AppliedInbox extends Inbox {
  /** Records that a delivery applied `version` of `recordId` for `uid`. */
  apply(uid: string, recordId: string, version: string): void;
  /** When true, every lookup throws InboxUnavailableError. */
  down: boolean;
  /** Lookups made so far. */
  lookups: number;
}

/** A fresh {@link AppliedInbox}. */
export function appliedInbox(store = 'memory'): AppliedInbox {
  const applied = new Map<string, string>();
  const key = (uid: string, id: string) => JSON.stringify([uid, id]);
  const unsupported = () => Promise.reject(new Error('not implemented by the stand-in'));
  const inbox: AppliedInbox = {
    store,
    engine: 'sqlite',
    down: false,
    lookups: 0,
    apply(uid, recordId, version) {
      applied.set(key(uid, recordId), version);
    },
    appliedVersion(uid, recordId) {
      inbox.lookups++;
      if (inbox.down) return Promise.reject(new InboxUnavailableError('store is read-only'));
      return Promise.resolve(applied.get(key(uid, recordId)));
    },
    hasDelivery: unsupported,
    put: unsupported,
    count: unsupported,
    claim: unsupported,
    complete: unsupported,
    retry: unsupported,
    deadLetter: unsupported,
    redrive: unsupported,
    stats: unsupported,
    healthy: () => Promise.resolve(!inbox.down),
    close: () => Promise.resolve(),
  };
  return inbox;
}

/** A real SQLite inbox in a temporary directory, and how a worker would record an applied version. */
export interface SqliteStore {
  inbox: Inbox;
  /** Stores a Stripe delivery with event id `eventId` for `uid`, as the intake does (pending). */
  store(uid: string, eventId: string): Promise<void>;
  /** Puts a delivery, claims it and completes it with `version` of `recordId` applied. */
  apply(uid: string, recordId: string, version: string): Promise<void>;
  /** Closes the database and removes its directory. */
  close(): Promise<void>;
}

/** Opens a {@link SqliteStore}. */
export async function sqliteStore(): Promise<SqliteStore> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-match-'));
  const inbox = await openSqliteInbox({ path: join(dir, 'inbox.db') });
  let n = 0;
  return {
    inbox,
    async apply(uid, recordId, version) {
      const now = Date.UTC(2025, 0, 1) + n;
      const id = `evt_${++n}`;
      const integration = { namespace: 'payments', name: 'items', uid };
      const delivery = { integration, id, scheme: 'standard' as const, eventType: 'item.updated' };
      await inbox.put({ ...delivery, receivedAt: now, body: '{}' });
      const claimed = (await inbox.claim(100, now, 60_000)).find((d) => d.id === id);
      if (claimed === undefined) throw new Error(`delivery ${id} was not claimed`);
      await inbox.complete(claimed, { recordId, version });
    },
    async store(uid, eventId) {
      const integration = { namespace: 'payments', name: 'items', uid };
      const delivery = { integration, id: eventId, scheme: 'stripe' as const };
      await inbox.put({
        ...delivery,
        eventType: 'customer.updated',
        receivedAt: Date.now(),
        body: '{}',
      });
    },
    async close() {
      await inbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A running stand-in intake: its base URL, and its inbox. */
export interface IntakeStandIn<I extends Inbox = AppliedInbox> {
  url: string;
  inbox: I;
  stop(): Promise<void>;
}

/** Serves `POST /match` over `inbox` on 127.0.0.1, a free port. */
export async function startIntakeStandIn<I extends Inbox = AppliedInbox>(
  inbox: I = appliedInbox() as unknown as I,
): Promise<IntakeStandIn<I>> {
  const server = new HealthServer({
    registry: new Registry(),
    port: 0,
    host: '127.0.0.1',
    routes: { '/match': matchHandler(inbox) },
  });
  await server.start();
  return { url: `http://127.0.0.1:${server.port}`, inbox, stop: () => server.stop() };
}
