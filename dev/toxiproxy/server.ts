/**
 * A local toxiproxy-server, the TCP fault proxy of the chaos tier's bad-network scenario: a test
 * starts one on a free port, puts a proxy in front of the API server (TLS passes through
 * untouched: the bytes are proxied, the certificate is still for 127.0.0.1) and adds or removes
 * toxics through its HTTP API. The binary is built from the Go module proxy by
 * `test/tools/build.sh` (`npm run setup`) into the shared cache; its version is in
 * `versions.env` beside this file.
 */
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, parseEnvFile } from '../cluster/binaries.ts';
import { Daemon, freePort, waitFor } from '../cluster/processes.ts';

/** The cached toxiproxy-server binary; throws with the command to run when it is not built. */
export function toxiproxyServerPath(root = cacheRoot()): string {
  const versions = parseEnvFile(readFileSync(join(import.meta.dirname, 'versions.env'), 'utf8'));
  const path = join(root, `toxiproxy-${versions.TOXIPROXY_VERSION ?? ''}`, 'toxiproxy-server');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`toxiproxy-server is not built: run \`npm run setup\` (no ${path})`);
  }
  return path;
}

/**
 * One toxic, as toxiproxy's API takes it. `stream` is the direction: `downstream` (server to
 * client, the default) or `upstream` (client to server). Attributes by type, times in ms:
 * `latency` {latency, jitter}; `timeout` {timeout} (data is dropped, the connection closed after
 * `timeout`, never when 0: a black hole); `reset_peer` {timeout} (TCP RST after `timeout`);
 * `bandwidth` {rate} (KB/s; 0 stops data); `slow_close` {delay}; `limit_data` {bytes}.
 */
export interface Toxic {
  /** Unique per proxy. Default `<type>_<stream>`. */
  name?: string;
  type: 'latency' | 'timeout' | 'reset_peer' | 'bandwidth' | 'slow_close' | 'limit_data';
  /** Default `downstream`. */
  stream?: 'upstream' | 'downstream';
  /** Probability the toxic applies to a connection, 0–1. Default 1. */
  toxicity?: number;
  attributes: Record<string, number>;
}

/** One proxy on a {@link Toxiproxy}: a listen address forwarding to an upstream. */
export interface Proxy {
  readonly name: string;
  /** `127.0.0.1:<port>`: where clients connect instead of the upstream. */
  readonly listen: string;
  /** Adds a toxic (to new and open connections). */
  addToxic(toxic: Toxic): Promise<void>;
  /** Removes a toxic by name (`<type>_<stream>` when it was added without one). */
  removeToxic(name: string): Promise<void>;
  /** Removes every toxic of this proxy. */
  clearToxics(): Promise<void>;
  /** false: stops listening and closes every connection (refused, a hard partition); true: back. */
  setEnabled(enabled: boolean): Promise<void>;
}

/** Options of {@link startToxiproxy}. */
export interface ToxiproxyOptions {
  /** Port of its HTTP API. Default a free one. */
  port?: number;
  /** The binary. Default {@link toxiproxyServerPath}. */
  binary?: string;
}

/** A running (or stopped) toxiproxy-server. */
export interface Toxiproxy {
  /** `http://127.0.0.1:<port>`: its HTTP API. */
  readonly url: string;
  /** Creates a proxy to `upstream` (`host:port`) listening on a free port of 127.0.0.1. */
  createProxy(name: string, upstream: string): Promise<Proxy>;
  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); removes its log dir. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(): string;
}

/** Starts toxiproxy-server on 127.0.0.1 and resolves once its API answers. */
export async function startToxiproxy(options: ToxiproxyOptions = {}): Promise<Toxiproxy> {
  const binary = options.binary ?? toxiproxyServerPath();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tributary-toxiproxy-'));
  const args = ['-host', '127.0.0.1', '-port', String(port)];
  const daemon = Daemon.start('toxiproxy-server', binary, args, join(dir, 'toxiproxy.log'));
  const url = `http://127.0.0.1:${port}`;
  const call = apiCaller(url, () => daemon.tail());
  await waitFor(`toxiproxy-server on port ${port}`, async () => {
    daemon.assertRunning();
    return (await fetch(`${url}/version`).catch(() => undefined))?.ok === true ? true : undefined;
  });
  return {
    url,
    async createProxy(name, upstream) {
      const created = await call<{ listen: string }>('POST', '/proxies', {
        name,
        upstream,
        listen: '127.0.0.1:0',
        enabled: true,
      });
      return proxyHandle(name, created.listen, call);
    },
    async reset() {
      await call('POST', '/reset');
    },
    async stop({ graceMs = 5_000 } = {}) {
      await daemon.stop(graceMs);
      rmSync(dir, { recursive: true, force: true });
    },
    tail: () => daemon.tail(),
  };
}

type Call = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

/** A JSON call to toxiproxy's API that throws with its answer (and log tail) when not 2xx. */
function apiCaller(url: string, tail: () => string): Call {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(url + path, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }
        : {}),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`toxiproxy ${method} ${path}: ${response.status} ${text}\n${tail()}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
}

function proxyHandle(name: string, listen: string, call: Call): Proxy {
  const base = `/proxies/${encodeURIComponent(name)}`;
  return {
    name,
    listen,
    async addToxic(toxic) {
      await call('POST', `${base}/toxics`, { stream: 'downstream', toxicity: 1, ...toxic });
    },
    async removeToxic(toxicName) {
      await call('DELETE', `${base}/toxics/${encodeURIComponent(toxicName)}`);
    },
    async clearToxics() {
      const toxics = await call<{ name: string }[]>('GET', `${base}/toxics`);
      for (const toxic of toxics) await this.removeToxic(toxic.name);
    },
    async setEnabled(enabled) {
      await call('POST', base, { enabled });
    },
  };
}
