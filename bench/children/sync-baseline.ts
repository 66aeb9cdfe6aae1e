/**
 * Measured child of the sync benchmark: the naive plain loop. Pages through the generic source
 * with `fetch` (cursor pagination), and PUTs each record of a page to the destination with an
 * Idempotency-Key, at most BENCH_CONCURRENCY in flight; no validation, no checkpoints, no
 * retries. Prints one measurement line (see bench/lib/process.ts).
 *
 * Environment: BENCH_SOURCE_URL (the list endpoint), BENCH_SOURCE_TOKEN (bearer),
 * BENCH_DESTINATION_URL (with `{id}`), BENCH_PAGE_SIZE, BENCH_CONCURRENCY, BENCH_CLIENT
 * (`fetch`, the default: Node's global fetch; `undici`: `undici.request` on a keep-alive Agent,
 * the client the runtime uses) and BENCH_MAX_RECORDS (stop after about this many; warm-up runs).
 */
import type * as Undici from 'undici';
import { measureAndReport } from '../lib/process.ts';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const sourceURL = env('BENCH_SOURCE_URL');
const token = env('BENCH_SOURCE_TOKEN');
const destination = env('BENCH_DESTINATION_URL');
const pageSize = env('BENCH_PAGE_SIZE');
const concurrency = Number(env('BENCH_CONCURRENCY'));
const maxRecords = Number(process.env.BENCH_MAX_RECORDS ?? Infinity);
const client = process.env.BENCH_CLIENT ?? 'fetch';
if (client !== 'fetch' && client !== 'undici') throw new Error(`unknown BENCH_CLIENT ${client}`);

type Item = Record<string, unknown>;
interface Answer {
  status: number;
  text: string;
}

// Loaded only when used, so the fetch baseline's RSS holds no second HTTP client.
const undici: typeof Undici | undefined = client === 'undici' ? await import('undici') : undefined;
const agent = undici && new undici.Agent({ keepAliveTimeout: 30_000 });

/** One request through the chosen client; the body is always read. */
async function send(
  url: string,
  init: { method: 'GET' | 'PUT'; headers: Record<string, string>; body?: string },
): Promise<Answer> {
  if (undici && agent) {
    const res = await undici.request(url, { ...init, dispatcher: agent });
    return { status: res.statusCode, text: await res.body.text() };
  }
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text() };
}

async function put(record: Item): Promise<void> {
  const id = String(record.id);
  const res = await send(destination.replace('{id}', encodeURIComponent(id)), {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': `${id}@${String(record.updated_at)}`,
    },
    body: JSON.stringify(record),
  });
  if (res.status < 200 || res.status > 299) throw new Error(`PUT ${id}: ${res.status}`);
}

async function putAll(records: Item[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < records.length) await put(records[next++] as Item);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, worker));
}

await measureAndReport(async () => {
  let cursor: string | undefined;
  let read = 0;
  for (;;) {
    const url = new URL(sourceURL);
    url.searchParams.set('limit', pageSize);
    if (cursor !== undefined) url.searchParams.set('cursor', cursor);
    const res = await send(url.href, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status !== 200) throw new Error(`GET ${url.pathname}: ${res.status}`);
    const body = JSON.parse(res.text) as { data: Item[]; next_cursor?: string | null };
    read += body.data.length;
    await putAll(body.data);
    if (!body.next_cursor || read >= maxRecords) break;
    cursor = body.next_cursor;
  }
  await agent?.close();
  return { read };
});
