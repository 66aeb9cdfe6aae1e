/**
 * `npm run bench -- webhooks`: acknowledged deliveries per second and ack latency (p50, p99) of
 * the durable inbox's two engines against a bare `node:http` handler that does the same durable
 * insert (a plain SQLite INSERT, committed with synchronous=FULL, then 200), side by side in one
 * run, printed as ratios.
 *
 * Each side is a receiver process of its own (bench/children/webhook-receiver.ts): `sqlite` and
 * `jetstream` are the intake's own handler (operator/intake/handler.ts: byte cap, Stripe
 * signature verification on the raw body, inbox put, then 202) over openSqliteInbox and
 * openJetStreamInbox (a local nats-server, file storage, one replica); `baseline` is a bare
 * `node:http` handler with the same verifyDelivery and a plain INSERT. This process is the sender: N signed deliveries with unique ids
 * over C keep-alive connections (undici Pool), the signatures computed before the clock starts.
 * Each round runs every side once, in a rotated order; the figures are medians over rounds. The
 * benchmark fails when a side answers anything but 200 or stores another count than it was sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startNatsServer, type NatsServer } from '../dev/nats/server.ts';
import { ROOT, processCpuMs } from './lib/process.ts';
import { grouped, machine, median, table, times } from './lib/report.ts';

/** One line for `npm run bench` without a name. */
export const summary = 'webhook ack rate and p99: SQLite and JetStream inboxes vs a bare INSERT';

const SECRET = 'whsec_bench';
const SIDES = ['baseline', 'sqlite', 'jetstream'] as const;
type Side = (typeof SIDES)[number];

interface Options {
  deliveries: number;
  concurrency: number;
  repeat: number;
}

interface Round {
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU of the receiver (and of nats-server for jetstream) per delivery, µs. */
  cpuUs: number;
}

/** Summed CPU ms of the processes (0 for one that is gone). */
const cpuOf = (pids: (number | undefined)[]) =>
  pids.reduce<number>((sum, pid) => sum + (pid === undefined ? 0 : (processCpuMs(pid) ?? 0)), 0);

function options(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      deliveries: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '32' },
      repeat: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log('npm run bench -- webhooks [--deliveries 3000] [--concurrency 32] [--repeat 3]');
    return undefined;
  }
  const whole = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number`);
    return value;
  };
  return {
    deliveries: whole('deliveries', values.deliveries),
    concurrency: whole('concurrency', values.concurrency),
    repeat: whole('repeat', values.repeat),
  };
}

async function startReceiver(env: Record<string, string>) {
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

async function stopReceiver(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function signed(prefix: string, count: number) {
  const t = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const id = `evt_${prefix}_${i}`;
    const body = JSON.stringify({
      id,
      type: 'customer.updated',
      data: { object: { id: `c${i}` } },
    });
    const v1 = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
    return { id, body, signature: `t=${t},v1=${v1}` };
  });
}

async function send(pool: Pool, deliveries: ReturnType<typeof signed>, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++];
      if (delivery === undefined) return;
      const start = performance.now();
      const response = await pool.request({
        path: '/hooks/bench/webhooks',
        method: 'POST',
        headers: { 'stripe-signature': delivery.signature, 'content-type': 'application/json' },
        body: delivery.body,
      });
      await response.body.dump();
      latencies.push(performance.now() - start);
      // The intake answers 202 for a stored delivery, the bare handler 200.
      if (response.statusCode !== 200 && response.statusCode !== 202) {
        throw new Error(`answered ${response.statusCode}`);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { wallMs: performance.now() - t0, latencies: latencies.sort((a, b) => a - b) };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function runSide(
  side: Side,
  env: Record<string, string>,
  opts: Options,
  natsPid: number | undefined,
): Promise<Round> {
  const { child, url } = await startReceiver({ ...env, RECEIVER_SIDE: side });
  const pids = [child.pid, side === 'jetstream' ? natsPid : undefined];
  const pool = new Pool(url, { connections: opts.concurrency, pipelining: 1 });
  try {
    const warmup = signed(`warm_${side}`, Math.min(500, opts.deliveries));
    await send(pool, warmup, opts.concurrency);
    const deliveries = signed(side, opts.deliveries);
    const cpu0 = cpuOf(pids);
    const { wallMs, latencies } = await send(pool, deliveries, opts.concurrency);
    const cpuUs = ((cpuOf(pids) - cpu0) * 1000) / opts.deliveries;
    const stored = Number(
      await (await pool.request({ path: '/count', method: 'GET' })).body.text(),
    );
    if (stored !== warmup.length + opts.deliveries) {
      throw new Error(`${side} stored ${stored} of ${warmup.length + opts.deliveries}`);
    }
    const perSecond = (opts.deliveries / wallMs) * 1000;
    return { perSecond, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), cpuUs };
  } finally {
    await pool.close();
    await stopReceiver(child);
  }
}

function report(results: Map<Side, Round[]>, opts: Options): void {
  const summary = (side: Side) => {
    const rounds = results.get(side) ?? [];
    return {
      perSecond: median(rounds.map((r) => r.perSecond)),
      p50: median(rounds.map((r) => r.p50)),
      p99: median(rounds.map((r) => r.p99)),
      cpuUs: median(rounds.map((r) => r.cpuUs)),
    };
  };
  const base = summary('baseline');
  const rows = SIDES.map((side) => {
    const s = summary(side);
    return [
      side,
      grouped(Math.round(s.perSecond)),
      `${s.p50.toFixed(2)} ms`,
      `${s.p99.toFixed(2)} ms`,
      side === 'baseline' ? '1.00×' : times(s.perSecond / base.perSecond),
      side === 'baseline' ? '1.00×' : times(s.p99 / base.p99),
      `${grouped(Math.round(s.cpuUs))} µs`,
      side === 'baseline' ? '1.00×' : times(s.cpuUs / base.cpuUs),
    ];
  });
  const header = ['side', 'acks/s', 'ack p50', 'ack p99', 'rate vs bare', 'p99 vs bare'];
  header.push('CPU/delivery', 'CPU vs bare');
  console.log(table(header, rows, new Set([1, 2, 3, 4, 5, 6, 7])));
  console.log(
    `\n${grouped(opts.deliveries)} deliveries × ${opts.repeat} rounds, ${opts.concurrency} ` +
      'connections; medians over rounds. rate vs bare above 1× is faster than the bare INSERT; ' +
      'p99 vs bare above 1× is slower. CPU/delivery: the receiver process, plus nats-server ' +
      'for jetstream; above 1× costs more.',
  );
}

/** Runs the benchmark (see the module comment). */
export async function run(args: string[]): Promise<void> {
  const opts = options(args);
  if (opts === undefined) return;
  console.log(`webhooks: ${machine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-webhooks-'));
  let nats: NatsServer | undefined;
  try {
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    const results = new Map<Side, Round[]>(SIDES.map((side) => [side, []]));
    for (let round = 0; round < opts.repeat; round += 1) {
      const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length] as Side);
      for (const side of order) {
        const env = {
          RECEIVER_PATH: join(dir, `${side}-${round}.db`),
          RECEIVER_NATS: nats.url,
          RECEIVER_STREAM: `BENCH${round}`,
        };
        results.get(side)?.push(await runSide(side, env, opts, nats.pid()));
      }
    }
    report(results, opts);
  } finally {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
