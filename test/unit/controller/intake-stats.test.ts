/**
 * The operator's poll of the intake: ready intake pods found by label at their `metrics` port,
 * each store counted once, a replica that cannot be read named, and only the Integrations whose
 * figures changed enqueued. The API is a fake transport (the pod list); the replicas are real
 * local HTTP servers answering /stats.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IntakeStats } from '../../../operator/api/index.ts';
import {
  INTAKE_POD_SELECTOR,
  IntakeStatsPoller,
} from '../../../operator/controller/intake-stats.ts';
import type { ApiRequest, ApiTransport } from '../../../operator/lib/kube/api.ts';
import { instantClock, silentLog } from '../runtime/support.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A /stats body of one store. */
function body(store: string, engine: IntakeStats['engine'], accepted: number): IntakeStats {
  return { version: 'tributary.dev/intake-stats/v1', store, engine, integrations: [row(accepted)] };
}

/** A replica answering /stats with whatever `stats()` returns now. */
async function replica(stats: () => IntakeStats): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const row = (accepted: number) => ({
  namespace: 'pay',
  name: 'hooks',
  uid: 'u1',
  accepted,
  duplicate: 0,
  rejected: 0,
  ignored: 0,
  pending: 0,
  deadLettered: 0,
  recentAccepted: accepted,
  recentRejected: 0,
});

const pod = (port: number, ready: boolean, portName = 'metrics') => ({
  status: { podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  spec: { containers: [{ ports: [{ name: portName, containerPort: port }] }] },
});

function transport(pods: () => unknown[], seen: ApiRequest[]): ApiTransport {
  return {
    request: <T>(request: ApiRequest) => {
      seen.push(request);
      return Promise.resolve({ items: pods() } as T);
    },
    stream: () => Promise.reject(new Error('no streams')),
  };
}

describe('IntakeStatsPoller', () => {
  it('reads the ready intake pods at their metrics port, counts a shared store once and enqueues only changes', async () => {
    let accepted = 2;
    const shared = () => body('jetstream:S', 'jetstream', accepted);
    const [a, b, notReady] = [await replica(shared), await replica(shared), await replica(shared)];
    const seen: ApiRequest[] = [];
    const changed: string[][] = [];
    const poller = new IntakeStatsPoller({
      api: transport(
        () => [pod(a, true), pod(b, true), pod(notReady, false), pod(9, true, 'hooks')],
        seen,
      ),
      clock: instantClock(),
      log: silentLog(),
      namespace: 'tributary-system',
      onChange: (keys) => changed.push(keys),
    });
    await poller.poll();
    expect(seen[0]).toMatchObject({
      path: '/api/v1/namespaces/tributary-system/pods',
      query: { labelSelector: INTAKE_POD_SELECTOR },
    });
    expect(poller.endpoints()).toEqual([`http://127.0.0.1:${a}`, `http://127.0.0.1:${b}`]);
    expect(poller.observation('u1')).toMatchObject({ accepted: 2 });
    expect(changed).toEqual([['pay/hooks']]);
    await poller.poll();
    expect(changed).toHaveLength(1);
    accepted = 3;
    await poller.poll();
    expect(changed).toEqual([['pay/hooks'], ['pay/hooks']]);
    expect(poller.observation('u1')?.accepted).toBe(3);
  });

  it('sums separate stores and names a replica it cannot read', async () => {
    const own = (store: string, accepted: number) => () => body(store, 'sqlite', accepted);
    const urls = [
      `http://127.0.0.1:${await replica(own('sqlite:a', 2))}`,
      `http://127.0.0.1:${await replica(own('sqlite:b', 5))}`,
      'http://127.0.0.1:1',
    ];
    const poller = new IntakeStatsPoller({
      api: transport(() => [], []),
      clock: instantClock(),
      log: silentLog(),
      namespace: undefined,
      urls,
      onChange: () => undefined,
    });
    await poller.poll();
    expect(poller.observation('u1')).toMatchObject({ accepted: 7 });
    expect(poller.observation('u1')?.partial).toMatch(/^http:\/\/127\.0\.0\.1:1: /);
  });
});
