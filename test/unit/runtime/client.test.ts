import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../../operator/runtime/errors.ts';
import { HttpClient, type HttpClientOptions } from '../../../operator/runtime/http/client.ts';
import {
  instantClock,
  sendJSON,
  silentLog,
  startServer,
  type Handler,
  type TestServer,
} from './support.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(handler: Handler, options: Partial<HttpClientOptions> = {}) {
  const server: TestServer = await startServer(handler);
  const agent = new Agent();
  cleanups.push(
    () => agent.close(),
    () => server.close(),
  );
  const clock = instantClock();
  const client = new HttpClient({
    dispatcher: agent,
    timeoutMs: 5_000,
    clock,
    random: () => 0.5,
    log: silentLog(),
    ...options,
  });
  return { server, clock, client, url: new URL('/items?limit=2', server.url) };
}

async function failure(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error('expected a SyncError');
}

describe('HttpClient retries', () => {
  it('honours Retry-After seconds on 429, then succeeds', async () => {
    const { server, clock, client, url } = await setup((_req, res, n) => {
      if (n <= 2) sendJSON(res, { error: 'slow down' }, 429, { 'retry-after': '7' });
      else sendJSON(res, { ok: true });
    });
    const res = await client.request({ url, expectJSON: true });
    expect(res.json).toEqual({ ok: true });
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([7000, 7000]);
  });

  it('honours Retry-After as an HTTP date on 503', async () => {
    const { server, clock, client, url } = await setup((_req, res, n) => {
      if (n === 1) sendJSON(res, {}, 503, { 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' });
      else sendJSON(res, []);
    });
    await client.request({ url, expectJSON: true });
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([5000]);
  });

  it('fails at once when Retry-After is longer than allowed, keeping the wait', async () => {
    const { server, client, url } = await setup((_req, res) => {
      sendJSON(res, {}, 429, { 'retry-after': '3600' });
    });
    const error = await failure(client.request({ url }));
    expect(error.code).toBe('RateLimited');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(server.requests).toHaveLength(1);
  });

  it('retries 5xx with capped full jitter and gives up after maxRetries', async () => {
    const { server, clock, client, url } = await setup(
      (_req, res) => {
        sendJSON(res, { error: 'boom' }, 502);
      },
      { retry: { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 500 } },
    );
    const error = await failure(client.request({ url }));
    expect(error.code).toBe('ServerError');
    expect(error.status).toBe(502);
    expect(error.retryable).toBe(true);
    expect(server.requests).toHaveLength(4);
    // random() = 0.5 of min(cap, 200 * 2^n): 100, 200, then capped at 500 → 250.
    expect(clock.sleeps).toEqual([100, 200, 250]);
  });

  it('does not retry 401, and keeps the token out of the error', async () => {
    const { server, clock, client, url } = await setup(
      (req, res) => {
        sendJSON(res, { error: `bad credentials ${String(req.headers.authorization)}` }, 401);
      },
      { headers: { authorization: 'Bearer tok-secret-1' }, secrets: ['tok-secret-1'] },
    );
    const error = await failure(client.request({ url }));
    expect(error.code).toBe('Authentication');
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(error.message).toContain('answered 401');
    expect(error.message).not.toContain('tok-secret-1');
    expect(error.message).not.toContain('limit=2');
  });

  it('retries a page that is not JSON, then succeeds', async () => {
    const { server, client, url } = await setup((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(n === 1 ? '{"data": [1, 2' : '{"data":[1,2]}');
    });
    const res = await client.request({ url, expectJSON: true });
    expect(res.json).toEqual({ data: [1, 2] });
    expect(server.requests).toHaveLength(2);
  });

  it('classifies a body that stays malformed as a retryable ServerError', async () => {
    const { client, url } = await setup(
      (_req, res) => {
        res.end('<html>oops</html>');
      },
      { retry: { maxRetries: 1 } },
    );
    const error = await failure(client.request({ url, expectJSON: true }));
    expect(error.code).toBe('ServerError');
    expect(error.retryable).toBe(true);
  });

  it('retries a connection reset as Network', async () => {
    const { server, client, url } = await setup((_req, res, n) => {
      if (n === 1) res.socket?.destroy();
      else sendJSON(res, { ok: 1 });
    });
    const res = await client.request({ url, expectJSON: true });
    expect(res.json).toEqual({ ok: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it('classifies a refused connection as Network and an unanswered request as Timeout', async () => {
    const { server, client } = await setup(
      () => {
        // Never answers.
      },
      { timeoutMs: 100, retry: { maxRetries: 0 } },
    );
    const closed = await startServer(() => undefined);
    const refusedURL = new URL('/x', closed.url);
    await closed.close();
    expect((await failure(client.request({ url: refusedURL }))).code).toBe('Network');
    const timeout = await failure(client.request({ url: new URL('/slow', server.url) }));
    expect(timeout.code).toBe('Timeout');
    expect(timeout.message).toContain('no answer within 100 ms');
  });

  it('passes through statuses the caller handles', async () => {
    const { client, url } = await setup((_req, res) => {
      sendJSON(res, { error: 'duplicate' }, 409);
    });
    const res = await client.request({ url, passThrough: (s) => s === 409 });
    expect(res.status).toBe(409);
  });
});

describe('HttpClient rate limit and notices', () => {
  it('waits for tokens beyond the burst', async () => {
    const { server, clock, client, url } = await setup(
      (_req, res) => {
        sendJSON(res, {});
      },
      { rateLimit: { requestsPerSecond: 1, burst: 2 } },
    );
    for (let i = 0; i < 4; i++) await client.request({ url });
    expect(server.requests).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it('reports deprecation headers of a response', async () => {
    const { client, url } = await setup((_req, res) => {
      sendJSON(res, {}, 200, {
        deprecation: '@1735689600',
        sunset: 'Wed, 31 Dec 2025 23:59:59 GMT',
      });
    });
    const res = await client.request({ url });
    expect(res.deprecation?.sunset).toBe('2025-12-31T23:59:59Z');
    expect(res.deprecation?.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/items is deprecated since/,
    );
  });
});
