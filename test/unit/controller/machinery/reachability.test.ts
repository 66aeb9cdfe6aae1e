import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ControllerMetrics } from '../../../../operator/controller/machinery/metrics.ts';
import { FakeClock } from '../../../support/fake-clock.ts';
import type { ApiRequest, ApiTransport } from '../../../../operator/lib/kube/api.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import {
  isUnanswered,
  Reachability,
  ReachabilityApi,
} from '../../../../operator/controller/machinery/reachability.ts';

/** An empty stream body. */
async function* empty(): AsyncGenerator<Uint8Array> {
  // no bytes
}

/** A transport whose next calls end as `outcomes` say: a value, or an error to throw. */
class ScriptedApi implements ApiTransport {
  outcomes: unknown[] = [];

  request<T>(): Promise<T> {
    const next = this.outcomes.shift();
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next as T);
  }

  stream(): Promise<AsyncIterable<Uint8Array>> {
    const next = this.outcomes.shift();
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(empty());
  }
}

function setUp() {
  const clock = new FakeClock(0);
  const reachability = new Reachability(clock, 5_000);
  const inner = new ScriptedApi();
  const api = new ReachabilityApi(inner, reachability);
  const outages: number[] = [];
  reachability.onAnswerAfterFailure((ms) => outages.push(ms));
  return { clock, reachability, inner, api, outages };
}

const request: ApiRequest = { path: '/api/v1/namespaces' };

describe('isUnanswered', () => {
  it.each([
    ['no answer (refused, reset, timeout)', new ApiError(0, 'ECONNREFUSED'), true],
    ['500', new ApiError(500, 'etcdserver: request timed out'), true],
    ['503', new ApiError(503, 'unavailable'), true],
    ['504', new ApiError(504, 'timeout'), true],
    ['501 (an answer: not implemented)', new ApiError(501, 'no'), false],
    ['404', new ApiError(404, 'not found'), false],
    ['409', new ApiError(409, 'conflict'), false],
    ['429 (throttled: the server answers)', new ApiError(429, 'slow down'), false],
    ['not an ApiError', new Error('bug'), false],
    ['refused by the lease fence (never sent)', new ApiError(0, 'not sent', 'NotLeader'), false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isUnanswered(error)).toBe(expected);
  });
});

describe('Reachability through ReachabilityApi', () => {
  it('turns unreachable only after the threshold, and back on the first answer', async () => {
    const { clock, reachability, inner, api, outages } = setUp();
    const told: string[] = [];
    reachability.onUnreachable((first) => told.push(first));
    inner.outcomes = [new ApiError(0, 'ECONNREFUSED'), new ApiError(503, 'down'), { kind: 'List' }];
    await expect(api.request(request)).rejects.toThrow('ECONNREFUSED');
    await clock.advance(4_999);
    expect(reachability.isReachable()).toBe(true);
    await expect(api.stream(request)).rejects.toThrow('down');
    await clock.advance(1);
    expect(reachability.isReachable()).toBe(false);
    expect(reachability.isReachable()).toBe(false);
    expect(told).toEqual(['ECONNREFUSED']); // once per outage, naming the call that began it
    await clock.advance(2_000);
    expect(await api.request(request)).toEqual({ kind: 'List' });
    expect(reachability.isReachable()).toBe(true);
    expect(outages).toEqual([7_000]);
  });

  it('counts an error status as an answer, and ignores calls its caller aborted', async () => {
    const { clock, reachability, inner, api, outages } = setUp();
    const aborted = AbortSignal.abort();
    inner.outcomes = [new ApiError(0, 'aborted'), new ApiError(0, 'reset'), new ApiError(404, 'x')];
    await expect(api.request({ ...request, signal: aborted })).rejects.toThrow();
    await clock.advance(10_000);
    expect(reachability.isReachable()).toBe(true);
    await expect(api.request(request)).rejects.toThrow('reset');
    await clock.advance(10_000);
    expect(reachability.isReachable()).toBe(false);
    await expect(api.request(request)).rejects.toThrow('x');
    expect(reachability.isReachable()).toBe(true);
    expect(outages).toEqual([10_000]);
  });

  it('tells no one when nothing had failed', async () => {
    const { inner, api, outages } = setUp();
    inner.outcomes = [{}, {}];
    await api.request(request);
    await api.stream(request);
    expect(outages).toEqual([]);
  });
});

describe('ControllerMetrics.apiServerOutage', () => {
  it('counts outages in tributary_apiserver_outages_total', async () => {
    const registry = new Registry();
    const metrics = new ControllerMetrics({ registry });
    metrics.apiServerOutage();
    metrics.apiServerOutage();
    const counter = registry.getSingleMetric('tributary_apiserver_outages_total');
    expect((await counter?.get())?.values[0]?.value).toBe(2);
  });
});
