/**
 * What `npm run bench -- webhooks` shares between its two measurements: the receiver processes
 * (bench/children/webhook-receiver.ts), the Stripe-signed deliveries, and the delivery →
 * destination measurement: deliveries posted at a fixed rate (open loop, each POST on its own
 * schedule, so a slow answer does not slow the sender down), a destination in this process that
 * timestamps every write, and per delivery the time from the start of its POST to the end of its
 * write at the destination.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { ROOT } from './process.ts';

/** The signing secret every receiver verifies with. */
export const SECRET = 'whsec_bench';

/** Starts a receiver process; resolves once it listens. */
export async function startReceiver(env: Record<string, string>) {
  const child = spawn(process.execPath, ['bench/children/webhook-receiver.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, RECEIVER_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const { port } = JSON.parse(line) as { port: number };
    return { child, url: `http://127.0.0.1:${port}` };
  }
  throw new Error(`the ${env.RECEIVER_SIDE ?? ''} receiver exited before listening`);
}

/** SIGTERM, then waits for the exit. */
export async function stopReceiver(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A signed delivery: its event id, the record id it carries, the body and its signature. */
export interface SignedDelivery {
  id: string;
  recordId: string;
  body: string;
  signature: string;
}

/** `count` Stripe-signed `customer.updated` events with unique event and record ids. */
export function signed(prefix: string, count: number): SignedDelivery[] {
  const t = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const id = `evt_${prefix}_${i}`;
    const recordId = `c_${prefix}_${i}`;
    const body = JSON.stringify({
      id,
      type: 'customer.updated',
      data: { object: { id: recordId } },
    });
    const v1 = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
    return { id, recordId, body, signature: `t=${t},v1=${v1}` };
  });
}

/** POSTs one delivery; resolves with the status code. */
export async function post(pool: Pool, delivery: SignedDelivery): Promise<number> {
  const response = await pool.request({
    path: '/hooks/bench/webhooks',
    method: 'POST',
    headers: { 'stripe-signature': delivery.signature, 'content-type': 'application/json' },
    body: delivery.body,
  });
  await response.body.dump();
  return response.statusCode;
}

/** The value at quantile `q` of sorted values. */
export const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** A destination that answers every `PUT /customers/{id}` 200 and notes when the write ended. */
export class TimestampingDestination {
  readonly #arrivals = new Map<string, number>();
  readonly #server: Server;
  #writes = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      req.resume();
      req.once('end', () => {
        const id = decodeURIComponent(req.url?.split('/').at(-1) ?? '');
        this.noteWrite(id, performance.now());
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  /** Listens on a free loopback port. */
  static async start(): Promise<TimestampingDestination> {
    const destination = new TimestampingDestination();
    destination.#server.listen(0, '127.0.0.1');
    await once(destination.#server, 'listening');
    return destination;
  }

  /** Its base URL. */
  get url(): string {
    const address = this.#server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** Notes the first write of a record (a repeat counts as a write, not as an arrival). */
  noteWrite(id: string, at: number): void {
    this.#writes += 1;
    if (!this.#arrivals.has(id)) this.#arrivals.set(id, at);
  }

  /** When the first write of `id` ended (performance.now()), if it arrived. */
  arrival(id: string): number | undefined {
    return this.#arrivals.get(id);
  }

  /** Writes received, repeats included. */
  get writes(): number {
    return this.#writes;
  }

  /** Closes the server. */
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/** Delivery → destination latencies of one run, sorted, ms; and the acks' p99. */
export interface EndToEnd {
  latencies: number[];
  ackP99: number;
}

/**
 * Posts `deliveries` at `rate` per second (open loop) to `url`, waits until the destination has
 * a write of each (at most `limitMs`) and returns the time from each POST to its write. Throws
 * when an answer is not 2xx or a write is missing.
 */
export async function endToEnd(
  url: string,
  deliveries: SignedDelivery[],
  rate: number,
  destination: TimestampingDestination,
  limitMs = 120_000,
): Promise<EndToEnd> {
  const pool = new Pool(url, { connections: 64, pipelining: 1 });
  const started = new Map<string, number>();
  const acks: number[] = [];
  const answers: Promise<void>[] = [];
  try {
    const t0 = performance.now();
    for (const [i, delivery] of deliveries.entries()) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      const start = performance.now();
      started.set(delivery.recordId, start);
      answers.push(
        post(pool, delivery).then((status) => {
          acks.push(performance.now() - start);
          if (status !== 200 && status !== 202) throw new Error(`answered ${status}`);
        }),
      );
    }
    await Promise.all(answers);
    await waitForWrites(deliveries, destination, limitMs);
  } finally {
    await pool.close();
  }
  const latencies = deliveries.map(
    (d) => (destination.arrival(d.recordId) ?? Number.NaN) - (started.get(d.recordId) ?? 0),
  );
  return {
    latencies: latencies.sort((a, b) => a - b),
    ackP99: quantile(
      acks.sort((a, b) => a - b),
      0.99,
    ),
  };
}

async function waitForWrites(
  deliveries: SignedDelivery[],
  destination: TimestampingDestination,
  limitMs: number,
): Promise<void> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const missing = deliveries.filter((d) => destination.arrival(d.recordId) === undefined);
    if (missing.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(`${missing.length} of ${deliveries.length} never reached the destination`);
    await sleep(20);
  }
}
