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
});
