/**
 * Stand-ins for intake stores in gap detection tests: the real `/match` route (operator/intake/
 * match.ts) on the real health server, over a minimal in-memory inbox that implements only
 * `appliedVersion` (no SQLite engine on main yet). `down` makes the inbox throw
 * InboxUnavailableError, as a store that went read-only or unreachable.
 */
import { Registry } from 'prom-client';
import { InboxUnavailableError, type Inbox } from '../../../../operator/api/index.ts';
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

/** A running stand-in intake: its base URL, and its inbox. */
export interface IntakeStandIn {
  url: string;
  inbox: AppliedInbox;
  stop(): Promise<void>;
}

/** Serves `POST /match` over `inbox` on 127.0.0.1, a free port. */
export async function startIntakeStandIn(inbox = appliedInbox()): Promise<IntakeStandIn> {
  const server = new HealthServer({
    registry: new Registry(),
    port: 0,
    host: '127.0.0.1',
    routes: { '/match': matchHandler(inbox) },
  });
  await server.start();
  return { url: `http://127.0.0.1:${server.port}`, inbox, stop: () => server.stop() };
}
