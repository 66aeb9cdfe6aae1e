import { describe, expect, it } from 'vitest';
import type { ApiRequest, ApiTransport } from '../../../../operator/lib/kube/api.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import { EventRecorder } from '../../../../operator/controller/machinery/event-recorder.ts';
import { FakeClock } from '../../../support/fake-clock.ts';
import { captureLogger } from './support.ts';

/** An API transport that keeps every request and answers with `answer` (throw to fail). */
class RecordingApi implements ApiTransport {
  readonly requests: ApiRequest[] = [];
  answer: (request: ApiRequest) => unknown = () => ({});

  request<T>(request: ApiRequest): Promise<T> {
    this.requests.push(request);
    return new Promise<T>((resolve) => {
      resolve(this.answer(request) as T);
    });
  }

  stream(): Promise<AsyncIterable<Uint8Array>> {
    return Promise.reject(new Error('not used'));
  }
}

const object = {
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'Integration',
  namespace: 'payments',
  name: 'stripe',
  uid: 'u-1',
};
const warning = { type: 'Warning' as const, reason: 'SyncFailed', message: 'upstream 503' };
const T0 = Date.UTC(2026, 0, 5, 10);

function setUp() {
  const api = new RecordingApi();
  const clock = new FakeClock(T0);
  const failures: string[] = [];
  const recorder = new EventRecorder({
    api,
    clock,
    reportingInstance: 'tributary-operator-7d9f_ab12cd',
    onWriteFailure: (reason) => failures.push(reason),
  });
  const { log, lines } = captureLogger();
  return { api, clock, failures, recorder, ctx: { log }, lines };
}

describe('EventRecorder', () => {
  it('creates a first Event naming its reporter', async () => {
    const { api, recorder, ctx } = setUp();
    expect(await recorder.record(object, warning, ctx)).toBe(true);
    expect(api.requests).toHaveLength(1);
    const [create] = api.requests;
    expect(create).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/payments/events' });
    expect(create?.body).toMatchObject({
      metadata: { namespace: 'payments' },
      involvedObject: object,
      type: 'Warning',
      reason: 'SyncFailed',
      message: 'upstream 503',
      source: { component: 'tributary-operator' },
      reportingComponent: 'tributary.dev/operator',
      reportingInstance: 'tributary-operator-7d9f_ab12cd',
      firstTimestamp: '2026-01-05T10:00:00Z',
      lastTimestamp: '2026-01-05T10:00:00Z',
      count: 1,
    });
  });

  it('patches count and lastTimestamp of the existing Event on a repeat', async () => {
    const { api, clock, recorder, ctx } = setUp();
    await recorder.record(object, warning, ctx);
    const name = (api.requests[0]?.body as { metadata: { name: string } }).metadata.name;
    for (let i = 0; i < 19; i++) {
      await clock.advance(1000);
      await recorder.record(object, warning, ctx);
    }
    expect(api.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    const last = api.requests.at(-1);
    expect(last).toMatchObject({
      method: 'PATCH',
      path: `/api/v1/namespaces/payments/events/${name}`,
      contentType: 'application/merge-patch+json',
      body: { count: 20, lastTimestamp: '2026-01-05T10:00:19Z', message: 'upstream 503' },
    });
  });

  it('creates the Event again, count kept, when the patch finds it expired (404)', async () => {
    const { api, recorder, ctx } = setUp();
    await recorder.record(object, warning, ctx);
    api.answer = (request) => {
      if (request.method === 'PATCH') throw new ApiError(404, 'events "x" not found', 'NotFound');
      return {};
    };
    expect(await recorder.record(object, warning, ctx)).toBe(true);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'PATCH', 'POST']);
    const [first, , again] = api.requests;
    expect(again?.body).toMatchObject({
      metadata: (first?.body as { metadata: object }).metadata,
      count: 2,
      firstTimestamp: '2026-01-05T10:00:00Z',
    });
  });

  it('counts and logs a write that fails, and does not throw', async () => {
    const { api, failures, recorder, ctx, lines } = setUp();
    api.answer = () => {
      throw new ApiError(403, 'events is forbidden', 'Forbidden');
    };
    expect(await recorder.record(object, warning, ctx)).toBe(false);
    expect(failures).toEqual(['SyncFailed']);
    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        reason: 'SyncFailed',
        msg: 'could not record Event',
      }),
    );
    api.answer = () => {
      throw new ApiError(500, 'etcdserver: request timed out');
    };
    expect(await recorder.record(object, warning, ctx)).toBe(false);
    expect(failures).toEqual(['SyncFailed', 'SyncFailed']);
  });

  it('cuts a long message to 1024 characters and keeps names a valid length', async () => {
    const { api, recorder, ctx } = setUp();
    const long = { ...object, name: 'x'.repeat(253) };
    await recorder.record(long, { ...warning, message: 'y'.repeat(5000) }, ctx);
    const body = api.requests[0]?.body as { message: string; metadata: { name: string } };
    expect(body.message).toHaveLength(1024);
    expect(body.metadata.name.length).toBeLessThanOrEqual(253);
  });
});
