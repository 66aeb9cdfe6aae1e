import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApi } from '../../../../operator/lib/kube/api.ts';
import { ConnectionPools, identity } from '../../../../operator/lib/kube/connections.ts';

/** The client port of each request: the same port twice means the connection was reused. */
const ports: number[] = [];
const server = createServer((request, response) => {
  ports.push(request.socket.remotePort ?? 0);
  response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function configFor(server: string, caFile?: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true, ...(caFile ? { caFile } : {}) }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
}

describe('KubeApi connections', () => {
  it('reuses keep-alive connections for calls one after another', async () => {
    const api = new KubeApi({ kubeConfig: configFor(url) });
    ports.length = 0;
    for (let i = 0; i < 5; i++) await api.request({ path: '/x' });
    expect(ports).toHaveLength(5);
    // At most two: a call can go out in the tick before the last one's socket is back in the
    // pool. Without the pool every call opened its own connection (5 ports).
    expect(new Set(ports).size).toBeLessThanOrEqual(2);
  });
});

class FakeDispatcher {
  closed = false;
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

describe('ConnectionPools', () => {
  it('keeps the first dispatcher while the identity holds, and swaps (closing the old) when it changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pools-'));
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, 'ca-1');
    const config = configFor('https://a', caFile);
    const pools = new ConnectionPools<FakeDispatcher>();
    const first = new FakeDispatcher();
    expect(pools.pick(config, first)).toBe(first);
    expect(pools.pick(config, new FakeDispatcher())).toBe(first);
    // A rotated CA file (new mtime) is a new identity.
    utimesSync(caFile, new Date(), new Date(Date.now() + 60_000));
    const second = new FakeDispatcher();
    expect(pools.pick(config, second)).toBe(second);
    expect(first.closed).toBe(true);
    // Another server too.
    const third = new FakeDispatcher();
    expect(pools.pick(configFor('https://b', caFile), third)).toBe(third);
    expect(second.closed).toBe(true);
  });

  it('names no secret in the identity, only where credentials are', () => {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://a', skipTLSVerify: false }],
      users: [{ name: 'u', token: 'very-secret-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    expect(identity(config)).not.toContain('very-secret-token');
  });
});
