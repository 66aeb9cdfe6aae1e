import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiPath,
  type ApiRequest,
  type ApiTransport,
  hostOf,
  KubeApi,
  type RequestRateLimiter,
} from '../../../../operator/lib/kube/api.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import { KubeListWatch } from '../../../../operator/controller/machinery/transport.ts';

/** What the fake API server saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP server answering by path; `/hang` never answers, `/drip` streams forever. */
const seen: Seen[] = [];
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    seen.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body,
    });
    answer(request.url ?? '', response);
  });
});

function answer(url: string, response: ServerResponse): void {
  const path = url.split('?')[0];
  const json = (status: number, value: unknown) => {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(value));
  };
  if (path === '/ok') {
    json(200, { kind: 'Thing', answer: 42 });
    return;
  }
  if (path === '/empty') return void response.writeHead(200).end();
  if (path === '/exists') {
    json(409, {
      kind: 'Status',
      code: 409,
      reason: 'AlreadyExists',
      message: 'jobs "x" already exists',
    });
    return;
  }
  if (path === '/missing') {
    json(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
    return;
  }
  if (path === '/plain') return void response.writeHead(503).end('upstream down');
  if (path === '/drip') {
    response.writeHead(200);
    response.write('{"type":"ADDED"}\n');
    return; // never ends: the client's timeout must.
  }
  // '/hang': no answer at all.
}

let kubeConfig: KubeConfig;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kubeConfig = configFor(`http://127.0.0.1:${port}`);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function configFor(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 's3cret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
}

/** The ApiError a call rejects with. */
async function failure(call: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('KubeApi', () => {
  it('sends the bearer token, the query without undefined values and Accept, and parses JSON', async () => {
    const api = new KubeApi({ kubeConfig });
    const body = await api.request<{ answer: number }>({
      path: '/ok',
      query: { labelSelector: 'a=b', continue: undefined },
    });
    expect(body.answer).toBe(42);
    const request = seen.at(-1);
    expect(request?.url).toBe('/ok?labelSelector=a%3Db');
    expect(request?.headers.authorization).toBe('Bearer s3cret');
    expect(request?.headers.accept).toBe('application/json');
  });

  it('sends a JSON body with its method and a chosen Accept header', async () => {
    const api = new KubeApi({ kubeConfig });
    await api.request({ method: 'POST', path: '/ok', body: { a: 1 }, accept: 'application/yaml' });
    const request = seen.at(-1);
    expect(request).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.accept).toBe('application/yaml');
  });

  it('asks the gate last, after the credentials: a gate that throws sends nothing', async () => {
    const api = new KubeApi({ kubeConfig });
    const before = seen.length;
    const order: string[] = [];
    const gate = () => {
      order.push('gate');
      throw new ApiError(0, 'not sent', 'NotLeader');
    };
    const error = await api
      .request({ method: 'POST', path: '/ok', body: {}, gate })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'NotLeader' });
    expect([order, seen.length - before]).toEqual([['gate'], 0]);
    await api.request({ method: 'POST', path: '/ok', body: {}, gate: () => order.push('open') });
    expect([order, seen.length - before]).toEqual([['gate', 'open'], 1]);
  });

  it('resolves undefined for an empty body', async () => {
    expect(await new KubeApi({ kubeConfig }).request({ method: 'DELETE', path: '/empty' })).toBe(
      undefined,
    );
  });

  it.each([
    { path: '/exists', status: 409, reason: 'AlreadyExists', message: 'jobs "x" already exists' },
    { path: '/missing', status: 404, reason: 'NotFound', message: 'not found' },
    { path: '/plain', status: 503, reason: undefined, message: 'upstream down' },
  ])(
    'turns HTTP $status into an ApiError with the Status reason',
    async ({ path, ...expected }) => {
      const error = await failure(new KubeApi({ kubeConfig }).request({ path }));
      expect({ status: error.status, reason: error.reason, message: error.message }).toEqual(
        expected,
      );
    },
  );

  it('fails a call that gets no answer within its timeout with ApiError status 0', async () => {
    const error = await failure(
      new KubeApi({ kubeConfig }).request({ path: '/hang', timeoutMs: 50 }),
    );
    expect(error.status).toBe(0);
    expect(error.message).toBe('GET /hang: no answer within 50 ms');
  });

  it('applies the default timeout of the options when a call sets none', async () => {
    const error = await failure(
      new KubeApi({ kubeConfig, timeoutMs: 30 }).request({ path: '/hang' }),
    );
    expect(error.message).toMatch(/no answer within 30 ms/);
  });

  it("honours the caller's signal with ApiError status 0", async () => {
    const abort = new AbortController();
    const call = new KubeApi({ kubeConfig }).request({ path: '/hang', signal: abort.signal });
    setTimeout(() => {
      abort.abort(new Error('reconcile cancelled'));
    }, 20);
    const error = await failure(call);
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/^GET \/hang: /);
  });

  it('streams a body and fails the stream itself when its timeout passes', async () => {
    const stream = await new KubeApi({ kubeConfig }).stream({ path: '/drip', timeoutMs: 100 });
    const chunks: string[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of stream) chunks.push(Buffer.from(chunk).toString());
      })(),
    );
    expect(chunks.join('')).toBe('{"type":"ADDED"}\n');
    expect(error.message).toBe('GET /drip: no answer within 100 ms');
  });

  it('fails with ApiError status 0 when the kubeconfig has no current cluster', async () => {
    const error = await failure(
      new KubeApi({ kubeConfig: new KubeConfig() }).request({ path: '/ok' }),
    );
    expect(error).toMatchObject({ status: 0, message: 'kubeconfig has no current cluster' });
  });

  it('fails with ApiError status 0 when the server refuses the connection', async () => {
    const closed = configFor('http://127.0.0.1:1');
    const error = await failure(new KubeApi({ kubeConfig: closed }).request({ path: '/ok' }));
    expect(error.status).toBe(0);
  });
});

/** A rate limiter that makes every call wait `waitMs` (real time), noting each wait in `order`. */
function slowLimiter(waitMs: number, order: string[]): RequestRateLimiter & { calls: number } {
  const limiter = {
    calls: 0,
    wait(signal?: AbortSignal): Promise<number> {
      limiter.calls++;
      order.push('wait');
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          resolve(waitMs);
        }, waitMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      });
    },
  };
  return limiter;
}

describe('KubeApi under a client request budget', () => {
  it('waits for its token first: before the gate, and before its timeout starts', async () => {
    const order: string[] = [];
    const waits: [string, string, number][] = [];
    const api = new KubeApi({
      kubeConfig,
      rateLimiter: slowLimiter(120, order),
      onRateLimiterWait: (verb, host, seconds) => waits.push([verb, host, seconds]),
    });
    const before = seen.length;
    // A 60 ms timeout that began before the 120 ms wait would fail the call unsent.
    const body = await api.request<{ answer: number }>({
      method: 'POST',
      path: '/ok',
      body: {},
      timeoutMs: 60,
      gate: () => order.push('gate'),
    });
    expect(body.answer).toBe(42);
    expect(order).toEqual(['wait', 'gate']);
    expect(seen.length - before).toBe(1);
    const { port } = server.address() as AddressInfo;
    expect(waits).toEqual([['POST', `127.0.0.1:${port}`, 0.12]]);
  });

  it("ends the wait on the caller's signal with ApiError status 0, sending nothing", async () => {
    const order: string[] = [];
    const api = new KubeApi({ kubeConfig, rateLimiter: slowLimiter(10_000, order) });
    const abort = new AbortController();
    const before = seen.length;
    const call = api.request({ method: 'PUT', path: '/ok', body: {}, signal: abort.signal });
    setTimeout(() => {
      abort.abort(new Error('reconcile cancelled'));
    }, 20);
    const error = await failure(call);
    expect(error).toMatchObject({ status: 0, message: 'PUT /ok: reconcile cancelled' });
    expect(seen.length - before).toBe(0);
  });

  it('counts a stream but not a watch, which client-go does not rate-limit either', async () => {
    const limiter = slowLimiter(0, []);
    const api = new KubeApi({ kubeConfig, rateLimiter: limiter });
    const drain = async (body: AsyncIterable<Uint8Array>) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of body) chunks.push(chunk);
      return chunks;
    };
    await drain(await api.stream({ path: '/ok', query: { watch: 'true' } }));
    expect(limiter.calls).toBe(0);
    await drain(await api.stream({ path: '/ok' }));
    await api.request({ path: '/ok', query: { watch: 'false' } });
    expect(limiter.calls).toBe(2);
  });
});

describe('hostOf', () => {
  it.each([
    ['https://10.96.0.1:443', '10.96.0.1:443'],
    ['https://kubernetes.default.svc', 'kubernetes.default.svc'],
    ['http://127.0.0.1:6443/prefix/', '127.0.0.1:6443'],
    ['https://[::1]:6443', '[::1]:6443'],
  ])('%s → %s (as Go writes url.Host, the port kept)', (server, host) => {
    expect(hostOf(server)).toBe(host);
  });
});

describe('apiPath', () => {
  it('encodes every interpolated value, never the template', () => {
    expect(apiPath`/api/v1/namespaces/${'a/b'}/secrets/${'c?d'}`).toBe(
      '/api/v1/namespaces/a%2Fb/secrets/c%3Fd',
    );
  });
});

/** An ApiTransport that records requests and answers from a script. */
class RecordingApi implements ApiTransport {
  readonly requests: ApiRequest[] = [];
  readonly body: unknown;
  constructor(body: unknown) {
    this.body = body;
  }
  request<T>(request: ApiRequest): Promise<T> {
    this.requests.push(request);
    return Promise.resolve(this.body as T);
  }
  stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    this.requests.push(request);
    const text = String(this.body);
    return Promise.resolve(
      (async function* () {
        await Promise.resolve();
        yield new TextEncoder().encode(text);
      })(),
    );
  }
}

describe('KubeListWatch over the API transport', () => {
  it('lists with a client-side timeout and restores apiVersion and kind on items', async () => {
    const api = new RecordingApi({
      apiVersion: 'batch/v1',
      kind: 'JobList',
      metadata: { resourceVersion: '7', continue: 'more' },
      items: [{ metadata: { name: 'a' } }],
    });
    const signal = new AbortController().signal;
    const page = await new KubeListWatch({ api, path: '/apis/batch/v1/jobs' }).list(
      { limit: 2, labelSelector: 'x=y' },
      signal,
    );
    expect(page).toEqual({
      items: [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'a' } }],
      resourceVersion: '7',
      continueToken: 'more',
    });
    expect(api.requests[0]).toMatchObject({
      path: '/apis/batch/v1/jobs',
      query: { limit: '2', labelSelector: 'x=y' },
      timeoutMs: 60_000,
      signal,
    });
  });

  it('watches for the server-side timeout plus a client-side margin', async () => {
    const api = new RecordingApi('{"type":"ADDED","object":{}}\n{"type":"BOOKMARK","object":{}}\n');
    const watch = new KubeListWatch({ api, path: '/api/v1/pods', watchMarginMs: 5_000 });
    const events: string[] = [];
    const params = { resourceVersion: '9', timeoutSeconds: 300 };
    for await (const event of watch.watch(params, new AbortController().signal))
      events.push(event.type);
    expect(events).toEqual(['ADDED', 'BOOKMARK']);
    expect(api.requests[0]).toMatchObject({
      query: {
        watch: 'true',
        allowWatchBookmarks: 'true',
        resourceVersion: '9',
        timeoutSeconds: '300',
      },
      timeoutMs: 305_000,
    });
  });
});
