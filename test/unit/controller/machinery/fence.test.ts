import { describe, expect, it } from 'vitest';
import type { ApiRequest, ApiTransport } from '../../../../operator/lib/kube/api.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import { FencedApi, NOT_LEADER } from '../../../../operator/controller/machinery/fence.ts';

class RecordingApi implements ApiTransport {
  readonly sent: string[] = [];
  request<T>(request: ApiRequest): Promise<T> {
    this.sent.push(`${request.method ?? 'GET'} ${request.path}`);
    return Promise.resolve(undefined as T);
  }
  stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    this.sent.push(`WATCH ${request.path}`);
    return Promise.resolve((async function* () {})());
  }
}

describe('FencedApi', () => {
  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)(
    'refuses %s without the lease, before anything is sent',
    async (method) => {
      const inner = new RecordingApi();
      const api = new FencedApi(inner, () => false);
      const refused = api.request({ method, path: '/apis/batch/v1/namespaces/a/jobs' });
      await expect(refused).rejects.toBeInstanceOf(ApiError);
      await expect(refused).rejects.toMatchObject({ status: 0, reason: NOT_LEADER });
      expect(inner.sent).toEqual([]);
    },
  );

  it('passes reads and watches without the lease, and writes with it', async () => {
    const inner = new RecordingApi();
    let holds = false;
    const api = new FencedApi(inner, () => holds);
    await api.request({ path: '/api/v1/pods' });
    await api.stream({ path: '/api/v1/pods' });
    holds = true;
    await api.request({ method: 'POST', path: '/apis/batch/v1/namespaces/a/jobs' });
    expect(inner.sent).toEqual([
      'GET /api/v1/pods',
      'WATCH /api/v1/pods',
      'POST /apis/batch/v1/namespaces/a/jobs',
    ]);
  });

  it('checks again at the gate, the last step before sending: a lease lost meanwhile stops the write', async () => {
    let holds = true;
    const sent: string[] = [];
    const inner: ApiTransport = {
      async request<T>(request: ApiRequest): Promise<T> {
        await Promise.resolve(); // credentials read, a connection picked: the process may pause here
        holds = false; // ... and come back after the lease is gone
        request.gate?.();
        sent.push(request.path);
        return undefined as T;
      },
      stream: () => Promise.reject(new Error('unused')),
    };
    const api = new FencedApi(inner, () => holds);
    const write = api.request({ method: 'POST', path: '/apis/batch/v1/namespaces/a/jobs' });
    await expect(write).rejects.toMatchObject({ reason: NOT_LEADER });
    expect(sent).toEqual([]);
  });
});
