/**
 * The deliveries port over a real local HTTP server: a body over the cap is answered 413, whether
 * its length is declared or it streams without one, and the sender reads the answer instead of a
 * reset. The inbox and directory stand-ins are never reached on this path.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hookHandler } from '../../../operator/intake/handler.ts';
import { instantClock, silentLog } from '../runtime/support.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function intake(): Promise<string> {
  const unreachable = () => Promise.reject(new Error('not reached over the cap'));
  const handler = hookHandler({
    inbox: { put: unreachable, count: unreachable } as never,
    directory: { integration: unreachable, secret: unreachable },
    verify: () => ({ ok: false, problem: 'not reached' }),
    clock: instantClock(),
    log: silentLog(),
    maxBodyBytes: 1024 * 1024,
  });
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/pay/hooks`;
}

/** Sends 2 MiB in 64 KiB chunks (declared or chunked) and resolves the status answered. */
function post(url: string, declare: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const total = 2 * 1024 * 1024;
    const headers = declare ? { 'content-length': String(total) } : {};
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('hookHandler over the byte cap', () => {
  it.each([
    ['declared by Content-Length', true],
    ['streamed without a length', false],
  ])('answers 413 to a body %s, readable by the sender', async (_what, declare) => {
    expect(await post(await intake(), declare)).toBe(413);
  });
});
