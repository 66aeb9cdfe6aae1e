/**
 * The heap of a process started with `--inspect=127.0.0.1:<port>`, read through the inspector
 * protocol (Chrome DevTools Protocol over Node 24's global WebSocket): a forced full GC, then
 * V8's used heap. Nothing in the product is there for measuring.
 */
import { writeFileSync } from 'node:fs';
import { waitFor } from './processes.ts';

/** One heap measurement, bytes. */
export interface HeapSample {
  /** V8's used heap after a forced full GC: what is still reachable. */
  usedBytes: number;
  /** V8's heap size (used and free). */
  totalBytes: number;
  /** The process's resident set size. */
  rssBytes: number;
}

interface Reply {
  id?: number;
  method?: string;
  params?: { chunk?: string };
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** A DevTools Protocol session to one inspected process. */
export class Inspector {
  readonly #socket: WebSocket;
  readonly #pending = new Map<
    number,
    { resolve: (r: Reply) => void; reject: (e: Error) => void }
  >();
  readonly #chunks: string[] = [];
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      this.#received(String(event.data));
    });
    socket.addEventListener('close', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('inspector closed'));
      this.#pending.clear();
    });
  }

  /** Connects to the inspector listening on `port` (waits for it to listen). */
  static async connect(port: number): Promise<Inspector> {
    const url = await waitFor(
      `an inspector on 127.0.0.1:${port}`,
      async () => {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/json/list`);
          const targets = (await response.json()) as { webSocketDebuggerUrl?: string }[];
          return targets[0]?.webSocketDebuggerUrl;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener(
        'open',
        () => {
          resolve();
        },
        { once: true },
      );
      socket.addEventListener(
        'error',
        () => {
          reject(new Error(`cannot open ${url}`));
        },
        {
          once: true,
        },
      );
    });
    return new Inspector(socket);
  }

  /** Sends one protocol command; resolves with its result. */
  async send(method: string, params: Record<string, unknown> = {}): Promise<Reply['result']> {
    const id = this.#nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result;
  }

  /** Forces full GCs, then reads the heap and the RSS. */
  async heap(): Promise<HeapSample> {
    // Twice: objects freed by the first (weak callbacks, finalizers) go in the second.
    await this.send('HeapProfiler.collectGarbage');
    await this.send('HeapProfiler.collectGarbage');
    const usage = (await this.send('Runtime.getHeapUsage')) as {
      usedSize: number;
      totalSize: number;
    };
    const rss = (await this.send('Runtime.evaluate', {
      expression: 'process.memoryUsage.rss()',
      returnByValue: true,
    })) as { result: { value: number } };
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize, rssBytes: rss.result.value };
  }

  /** Writes a heap snapshot to `path` (for finding a leak; loads in Chrome DevTools). */
  async snapshot(path: string): Promise<void> {
    this.#chunks.length = 0;
    await this.send('HeapProfiler.enable');
    await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    writeFileSync(path, this.#chunks.join(''));
    this.#chunks.length = 0;
  }

  /** Closes the session. */
  close(): void {
    this.#socket.close();
  }

  #received(data: string): void {
    const reply = JSON.parse(data) as Reply;
    if (reply.method === 'HeapProfiler.addHeapSnapshotChunk') {
      this.#chunks.push(reply.params?.chunk ?? '');
      return;
    }
    if (reply.id === undefined) return;
    this.#pending.get(reply.id)?.resolve(reply);
    this.#pending.delete(reply.id);
  }
}
