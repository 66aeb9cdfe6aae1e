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
 *
 * Then delivery → destination (bench/lib/webhooks.ts): the same sides with RECEIVER_DESTINATION,
 * deliveries posted at `--e2e-rate` per second, the time from each POST to its write at a
 * timestamping destination in this process: `sqlite` and `jetstream` through the runtime's webhook
 * workers, `baseline` writing inline before its 200. It fails when a write never arrives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startNatsServer, type NatsServer } from '../dev/nats/server.ts';
import { processCpuMs } from './lib/process.ts';
import { grouped, machine, median, table, times } from './lib/report.ts';
import {
  endToEnd,
  post,
  quantile,
  signed,
  startReceiver,
  stopReceiver,
  TimestampingDestination,
} from './lib/webhooks.ts';

/** One line for `npm run bench` without a name. */
export const summary =
  'webhook ack rate and p99, delivery → destination p99: SQLite and JetStream vs a bare handler';

const SIDES = ['baseline', 'sqlite', 'jetstream'] as const;
type Side = (typeof SIDES)[number];

interface Options {
  deliveries: number;
  concurrency: number;
  repeat: number;
  /** Deliveries per side and round of the delivery → destination measurement. */
  e2eDeliveries: number;
  /** Their rate, per second (open loop). */
  e2eRate: number;
  /** The workers' idle wait between empty claims, ms; undefined: the workers' default. */
  idleMs: number | undefined;
}

interface EndToEndRound {
  p50: number;
  p99: number;
  ackP99: number;
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
      'e2e-deliveries': { type: 'string', default: '300' },
      'e2e-rate': { type: 'string', default: '15' },
      'idle-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(
      'npm run bench -- webhooks [--deliveries 3000] [--concurrency 32] [--repeat 3] ' +
        '[--e2e-deliveries 300] [--e2e-rate 15] [--idle-ms N]',
    );
    return undefined;
  }
  const whole = (name: string, text: string, min = 1) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`--${name} must be a whole number of at least ${min}`);
    return value;
  };
  return {
    deliveries: whole('deliveries', values.deliveries),
    concurrency: whole('concurrency', values.concurrency),
    repeat: whole('repeat', values.repeat),
    e2eDeliveries: whole('e2e-deliveries', values['e2e-deliveries']),
    e2eRate: whole('e2e-rate', values['e2e-rate']),
    idleMs: values['idle-ms'] === undefined ? undefined : whole('idle-ms', values['idle-ms'], 0),
  };
}

async function send(pool: Pool, deliveries: ReturnType<typeof signed>, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++];
      if (delivery === undefined) return;
      const start = performance.now();
      const status = await post(pool, delivery);
      latencies.push(performance.now() - start);
      // The intake answers 202 for a stored delivery, the bare handler 200.
      if (status !== 200 && status !== 202) throw new Error(`answered ${status}`);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { wallMs: performance.now() - t0, latencies: latencies.sort((a, b) => a - b) };
}

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

/** Delivery → destination of one side: a receiver writing to `destination`, paced deliveries. */
async function runEndToEndSide(
  side: Side,
  env: Record<string, string>,
  opts: Options,
  destination: TimestampingDestination,
  round: number,
): Promise<EndToEndRound> {
  const { child, url } = await startReceiver({
    ...env,
    RECEIVER_SIDE: side,
    RECEIVER_DESTINATION: destination.url,
    ...(opts.idleMs === undefined ? {} : { RECEIVER_IDLE_MS: String(opts.idleMs) }),
  });
  try {
    const warmup = signed(`e2e_warm_${side}_${round}`, Math.min(30, opts.e2eDeliveries));
    await endToEnd(url, warmup, opts.e2eRate, destination);
    const measured = signed(`e2e_${side}_${round}`, opts.e2eDeliveries);
    const { latencies, ackP99 } = await endToEnd(url, measured, opts.e2eRate, destination);
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), ackP99 };
  } catch (error) {
    throw new Error(`${side}, round ${round + 1}: ${(error as Error).message}`, { cause: error });
  } finally {
    await stopReceiver(child);
  }
}

function reportEndToEnd(results: Map<Side, EndToEndRound[]>, opts: Options): void {
  const summary = (side: Side) => {
    const rounds = results.get(side) ?? [];
    return {
      p50: median(rounds.map((r) => r.p50)),
      p99: median(rounds.map((r) => r.p99)),
      ackP99: median(rounds.map((r) => r.ackP99)),
    };
  };
  const base = summary('baseline');
  const rows = SIDES.map((side) => {
    const s = summary(side);
    return [
      side,
      `${s.p50.toFixed(2)} ms`,
      `${s.p99.toFixed(2)} ms`,
      side === 'baseline' ? '1.00×' : times(s.p99 / base.p99),
      `${s.ackP99.toFixed(2)} ms`,
    ];
  });
  const header = ['side', 'to dest p50', 'to dest p99', 'p99 vs bare', 'ack p99'];
  console.log(table(header, rows, new Set([1, 2, 3, 4])));
  const idle = opts.idleMs === undefined ? "the workers' default 200 ms" : `${opts.idleMs} ms`;
  console.log(
    `\ndelivery → destination: ${grouped(opts.e2eDeliveries)} deliveries × ${opts.repeat} ` +
      `rounds at ${grouped(opts.e2eRate)}/s, from the start of the POST to the end of the ` +
      'write at the destination; medians over rounds. baseline writes inline before its 200; ' +
      `sqlite and jetstream ack first, then their workers (4 at once, idle wait ${idle}) ` +
      'write. p99 vs bare above 1× is slower.',
  );
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

/** Runs `each` for every side in every round (the order rotated per round); results per side. */
async function rounds<T>(
  repeat: number,
  each: (side: Side, round: number) => Promise<T>,
): Promise<Map<Side, T[]>> {
  const results = new Map<Side, T[]>(SIDES.map((side) => [side, []]));
  for (let round = 0; round < repeat; round += 1) {
    const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length] as Side);
    for (const side of order) results.get(side)?.push(await each(side, round));
  }
  return results;
}

/** Runs the benchmark (see the module comment). */
export async function run(args: string[]): Promise<void> {
  const opts = options(args);
  if (opts === undefined) return;
  console.log(`webhooks: ${machine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-webhooks-'));
  let nats: NatsServer | undefined;
  let destination: TimestampingDestination | undefined;
  try {
    const server = await startNatsServer({ storeDir: join(dir, 'nats') });
    nats = server;
    const env = (name: string, side: Side, round: number) => ({
      RECEIVER_PATH: join(dir, `${name}-${side}-${round}.db`),
      RECEIVER_NATS: server.url,
      RECEIVER_STREAM: `${name.toUpperCase()}${round}`,
    });
    const acks = await rounds(opts.repeat, (side, round) =>
      runSide(side, env('bench', side, round), opts, server.pid()),
    );
    report(acks, opts);
    const sink = await TimestampingDestination.start();
    destination = sink;
    const e2e = await rounds(opts.repeat, (side, round) =>
      runEndToEndSide(side, env('e2e', side, round), opts, sink, round),
    );
    console.log('');
    reportEndToEnd(e2e, opts);
  } finally {
    await destination?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
