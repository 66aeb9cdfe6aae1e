/**
 * A webhook receiver for `npm run bench -- webhooks`, one per side, in a process of its own:
 * `POST /hooks/<id>` reads the raw body, verifies a Stripe-style signature (HMAC-SHA256 of
 * "t.body", constant-time), stores the delivery and only then answers 200. What stores it is the
 * side: `baseline` is a bare `node:sqlite` INSERT (WAL, synchronous=FULL, committed per
 * request); `sqlite` and `jetstream` are the inbox engines' `put`. `GET /count` answers how many
 * deliveries were stored. Prints `{"port":N}` once listening; SIGTERM closes it.
 *
 *   RECEIVER_SIDE=baseline|sqlite|jetstream RECEIVER_PATH=/tmp/x.db RECEIVER_NATS=nats://… \
 *   RECEIVER_STREAM=B1 RECEIVER_SECRET=… node bench/children/webhook-receiver.ts
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import type { Inbox } from '../../operator/api/inbox.ts';
import { InboxUnavailableError } from '../../operator/api/inbox.ts';
import { openJetStreamInbox } from '../../operator/intake/inbox/jetstream.ts';
import { openSqliteInbox } from '../../operator/intake/inbox/sqlite.ts';

const MAX_BODY = 1 << 20;
const env = process.env;
const secret = env.RECEIVER_SECRET ?? 'whsec_bench';
const integration = { namespace: 'bench', name: 'webhooks', uid: 'bench-uid' };

type Store = (id: string, body: string, receivedAt: number) => Promise<void>;

function verified(header: string | undefined, body: Buffer): boolean {
  const parts = new Map((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (t === undefined || v1 === undefined) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function baseline(path: string): { store: Store; count: () => Promise<number> } {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS d (id TEXT PRIMARY KEY, body TEXT NOT NULL, at INTEGER)');
  const insert = db.prepare('INSERT OR IGNORE INTO d (id, body, at) VALUES (?, ?, ?)');
  const count = db.prepare('SELECT count(*) AS n FROM d');
  return {
    store: (id, body, at) => {
      insert.run(id, body, at);
      return Promise.resolve();
    },
    count: () => Promise.resolve(Number(count.get()?.n ?? 0)),
  };
}

async function engine(inbox: Inbox): Promise<{ store: Store; count: () => Promise<number> }> {
  return Promise.resolve({
    store: async (id, body, receivedAt) => {
      await inbox.put({ integration, id, scheme: 'stripe', eventType: 'x', receivedAt, body });
    },
    count: async () => (await inbox.stats(Date.now())).reduce((n, row) => n + row.accepted, 0),
  });
}

async function side() {
  const path = env.RECEIVER_PATH ?? '/tmp/tributary-bench-webhooks.db';
  switch (env.RECEIVER_SIDE) {
    case 'baseline':
      return baseline(path);
    case 'sqlite':
      return engine(await openSqliteInbox({ path }));
    case 'jetstream': {
      const servers = env.RECEIVER_NATS ?? 'nats://127.0.0.1:4222';
      return engine(await openJetStreamInbox({ servers, stream: env.RECEIVER_STREAM ?? 'BENCH' }));
    }
    default:
      throw new Error(`RECEIVER_SIDE must be baseline, sqlite or jetstream`);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const { store, count } = await side();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/count') {
    res.end(String(await count()));
    return;
  }
  const body = await readBody(req);
  if (body === undefined) return void res.writeHead(413).end();
  const signature = req.headers['stripe-signature'];
  if (!verified(typeof signature === 'string' ? signature : undefined, body)) {
    return void res.writeHead(401).end();
  }
  const id = String(req.headers['x-delivery-id'] ?? '');
  try {
    await store(id, body.toString('utf8'), Date.now());
    res.writeHead(200).end();
  } catch (error) {
    res.writeHead(error instanceof InboxUnavailableError ? 503 : 500).end();
  }
}

const server = createServer((req, res) => void handle(req, res));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
