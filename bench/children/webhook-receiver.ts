/**
 * A webhook receiver for `npm run bench -- webhooks`, one per side, in a process of its own.
 * `sqlite` and `jetstream` are the intake's own `POST /hooks/{namespace}/{name}` handler
 * (operator/intake/handler.ts: byte cap, verifyDelivery on the raw body, inbox put, 202) over
 * the inbox engine, with a fixed Integration and secret in place of the Kubernetes directory.
 * `baseline` is a bare `node:http` handler doing the same verification (verifyDelivery, stripe
 * scheme) and the same durable insert: a plain `node:sqlite` INSERT (WAL, synchronous=FULL,
 * committed per request), then 200. `GET /count` answers how many deliveries were stored.
 * Prints `{"port":N}` once listening; SIGTERM closes it.
 *
 * With RECEIVER_DESTINATION (a base URL) each delivery also reaches that destination, as
 * `PUT {destination}/customers/{id}` of the event's `data.object`: the intake sides run the
 * runtime's webhook workers (operator/runtime/webhook/workers.ts, with Connections: the sync's
 * destination writer, payload mode) over the same inbox, with the intake's defaults (4 at once,
 * the claim loop's idle wait RECEIVER_IDLE_MS, default the workers' 200 ms); the baseline writes
 * to the destination inline (one undici request on a keep-alive Agent) before its 200.
 *
 *   RECEIVER_SIDE=baseline|sqlite|jetstream RECEIVER_PATH=/tmp/x.db RECEIVER_NATS=nats://… \
 *   RECEIVER_STREAM=B1 RECEIVER_SECRET=whsec_… [RECEIVER_DESTINATION=http://…] \
 *   node bench/children/webhook-receiver.ts
 */
import { readCappedBody } from '../../operator/lib/http-body.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { DatabaseSync } from 'node:sqlite';
import type { Inbox } from '../../operator/api/inbox.ts';
import type { Integration } from '../../operator/api/integration.ts';
import { hookHandler } from '../../operator/intake/handler.ts';
import { openJetStreamInbox } from '../../operator/intake/inbox/jetstream.ts';
import { openSqliteInbox } from '../../operator/intake/inbox/sqlite.ts';
import { signedRequest, verifyDelivery } from '../../operator/intake/schemes/index.ts';
import { systemClock } from '../../operator/lib/clock.ts';
import { createLogger } from '../../operator/lib/log.ts';
import { createAgent } from '../../operator/runtime/http/client.ts';
import { Connections } from '../../operator/runtime/webhook/connections.ts';
import { WebhookWorkers } from '../../operator/runtime/webhook/workers.ts';

const MAX_BODY = 1 << 20;
const TOLERANCE_MS = 5 * 60_000;
const env = process.env;
const secret = env.RECEIVER_SECRET ?? 'whsec_bench';
const destination = env.RECEIVER_DESTINATION;
const dispatcher = createAgent(30_000);

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function baseline(path: string): { handle: Handler; count: () => Promise<number> } {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS d (id TEXT PRIMARY KEY, body TEXT NOT NULL, at INTEGER)');
  const insert = db.prepare('INSERT OR IGNORE INTO d (id, body, at) VALUES (?, ?, ?)');
  const count = db.prepare('SELECT count(*) AS n FROM d');
  const handle: Handler = async (req, res) => {
    const body = await readCappedBody(req, MAX_BODY);
    if (body === undefined) return void res.writeHead(413).end();
    const now = Date.now();
    const verified = verifyDelivery(
      'stripe',
      signedRequest(req.headers, body),
      [secret],
      now,
      TOLERANCE_MS,
    );
    if (!verified.ok) return void res.writeHead(401).end();
    insert.run(verified.id, body.toString('utf8'), now);
    if (destination !== undefined) await writeInline(body);
    res.writeHead(200).end();
  };
  return { handle, count: () => Promise.resolve(Number(count.get()?.n ?? 0)) };
}

/** The baseline's destination write: the event's object, PUT before answering. */
async function writeInline(body: Buffer): Promise<void> {
  const event = JSON.parse(body.toString('utf8')) as { data: { object: { id: string } } };
  const object = event.data.object;
  const response = await dispatcher.request({
    origin: destination ?? '',
    path: `/customers/${encodeURIComponent(object.id)}`,
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'idempotency-key': `bench:${object.id}` },
    body: JSON.stringify(object),
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw new Error(`destination answered ${response.statusCode}`);
}

const ref = { name: 'whsec', key: 'secret' };
const integration = {
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'Integration',
  metadata: { namespace: 'bench', name: 'webhooks', uid: 'bench-uid' },
  spec: {
    // Never read (payload mode): the workers' Connections need a source to build the parts.
    source: {
      provider: 'http',
      baseURL: 'http://127.0.0.1:9',
      credentialsRef: ref,
      http: { path: '/v1/customers', recordsPath: 'data', auth: { type: 'bearer' } },
    },
    destination: { url: `${destination ?? 'http://127.0.0.1:9'}/customers/{id}`, method: 'PUT' },
    webhook: { scheme: 'stripe', secretRefs: [ref], mode: 'payload' },
  },
} as unknown as Integration;

const directory = {
  integration: () => Promise.resolve(integration),
  secret: () => Promise.resolve(secret),
};

/** The runtime's webhook workers over `inbox`, when the deliveries go on to a destination. */
function workers(inbox: Inbox): WebhookWorkers | undefined {
  if (destination === undefined) return undefined;
  const log = createLogger({ level: 'silent' });
  const started = new WebhookWorkers({
    inbox,
    directory,
    connections: new Connections({ directory, dispatcher, log, timeoutMs: 30_000 }),
    log,
    clock: systemClock({ keepAlive: true }),
    idleMs: env.RECEIVER_IDLE_MS === undefined ? undefined : Number(env.RECEIVER_IDLE_MS),
  });
  started.start();
  return started;
}

function intake(inbox: Inbox): { handle: Handler; count: () => Promise<number> } {
  const running = workers(inbox);
  const handle = hookHandler({
    inbox,
    directory,
    verify: verifyDelivery,
    clock: systemClock(),
    log: createLogger({ level: 'silent' }),
    maxBodyBytes: MAX_BODY,
    // As `tributary intake` does: a stored delivery wakes the workers.
    observe: (result) => {
      if (result === 'stored') running?.wake();
    },
  });
  const count = async () => (await inbox.stats(Date.now())).reduce((n, r) => n + r.accepted, 0);
  return { handle, count };
}

async function side() {
  const path = env.RECEIVER_PATH ?? '/tmp/tributary-bench-webhooks.db';
  switch (env.RECEIVER_SIDE) {
    case 'baseline':
      return baseline(path);
    case 'sqlite':
      return intake(await openSqliteInbox({ path }));
    case 'jetstream': {
      const servers = env.RECEIVER_NATS ?? 'nats://127.0.0.1:4222';
      return intake(await openJetStreamInbox({ servers, stream: env.RECEIVER_STREAM ?? 'BENCH' }));
    }
    default:
      throw new Error(`RECEIVER_SIDE must be baseline, sqlite or jetstream`);
  }
}

const { handle, count } = await side();

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/count') {
    res.end(String(await count()));
    return;
  }
  await handle(req, res);
}

const server = createServer((req, res) => void serve(req, res));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
