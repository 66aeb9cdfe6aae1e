/**
 * A local nats-server with JetStream, for the durable inbox's scale-out engine: the integration
 * tests, the e2e tier and `npm run bench -- webhooks` start one on a free port with a store
 * directory of its own. The binary is built from the Go module proxy by `test/tools/build.sh`
 * (`npm run setup`) into the shared cache; its version is in `versions.env` beside this file.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, parseEnvFile } from '../cluster/binaries.ts';
import { Daemon, freePort, waitFor } from '../cluster/processes.ts';

/** The cached nats-server binary; throws with the command to run when it is not built. */
export function natsServerPath(root = cacheRoot()): string {
  const versions = parseEnvFile(readFileSync(join(import.meta.dirname, 'versions.env'), 'utf8'));
  const path = join(root, `nats-server-${versions.NATS_SERVER_VERSION ?? ''}`, 'nats-server');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`nats-server is not built: run \`npm run setup\` (no ${path})`);
  }
  return path;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** JetStream's file store; default a new temp dir, removed by `stop({ removeStore: true })`. */
  storeDir?: string;
  /** Client port; default a free one. Pass the old port to restart "the same" server. */
  port?: number;
  /** The binary; default {@link natsServerPath}. */
  binary?: string;
}

/** A running (or stopped) nats-server. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); removes the store when asked. */
  stop(options?: { graceMs?: number; removeStore?: boolean }): Promise<void>;
  /** Stops it (the store kept) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(): string;
  /** The process id while it runs (CPU accounting in the benchmark). */
  pid(): number | undefined;
}

function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(undefined);
    });
  });
}

async function launch(binary: string, port: number, storeDir: string): Promise<Daemon> {
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-n', `t${port}`];
  const daemon = Daemon.start('nats-server', binary, args, join(storeDir, 'nats-server.log'));
  await waitFor(`nats-server on port ${port}`, async () => {
    daemon.assertRunning();
    return accepts(port);
  });
  return daemon;
}

/** Starts nats-server with JetStream on 127.0.0.1 and resolves once it accepts connections. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = options.binary ?? natsServerPath();
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'tributary-nats-'));
  mkdirSync(storeDir, { recursive: true });
  let daemon = await launch(binary, port, storeDir);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async stop({ graceMs = 10_000, removeStore = false } = {}) {
      await daemon.stop(graceMs);
      if (removeStore) rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await daemon.stop();
      daemon = await launch(binary, port, storeDir);
    },
    tail: () => daemon.tail(),
    pid: () => daemon.pid,
  };
}
