/**
 * Small process utilities for the local control plane: free ports, daemons with their output in
 * a log file, and polling until a condition holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1, as the kernel hands it out. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** A long-running child process whose output goes to a log file. */
export class Daemon {
  readonly #name: string;
  readonly #command: string;
  readonly #args: string[];
  readonly #logFile: string;
  readonly #env: NodeJS.ProcessEnv | undefined;
  #child: ChildProcess;
  #exited: Promise<number | null>;

  private constructor(
    name: string,
    command: string,
    args: string[],
    logFile: string,
    env: NodeJS.ProcessEnv | undefined,
  ) {
    this.#name = name;
    this.#command = command;
    this.#args = args;
    this.#logFile = logFile;
    this.#env = env;
    this.#child = Daemon.#spawn(command, args, logFile, env);
    this.#exited = Daemon.#exitOf(this.#child);
  }

  /**
   * Starts `command` with `args` (and `env`, default this process's); stdout and stderr are
   * appended to `logFile`.
   */
  static start(
    name: string,
    command: string,
    args: string[],
    logFile: string,
    env?: NodeJS.ProcessEnv,
  ): Daemon {
    return new Daemon(name, command, args, logFile, env);
  }

  static #spawn(
    command: string,
    args: string[],
    logFile: string,
    env: NodeJS.ProcessEnv | undefined,
  ): ChildProcess {
    const fd = openSync(logFile, 'a');
    try {
      return spawn(command, args, { stdio: ['ignore', fd, fd], env });
    } finally {
      closeSync(fd);
    }
  }

  static #exitOf(child: ChildProcess): Promise<number | null> {
    return once(child, 'exit').then(([code]) => code as number | null);
  }

  /**
   * Stops the process (SIGTERM, or SIGKILL when `kill`), waits `downMs`, and starts it again
   * with the same command, arguments and log: the same ports, the same data dir.
   */
  async restart(options: { kill?: boolean; downMs?: number } = {}): Promise<void> {
    if (options.kill === true) {
      if (this.running) this.#child.kill('SIGKILL');
      await this.#exited;
    } else {
      await this.stop();
    }
    if ((options.downMs ?? 0) > 0) await sleep(options.downMs ?? 0);
    this.#child = Daemon.#spawn(this.#command, this.#args, this.#logFile, this.#env);
    this.#exited = Daemon.#exitOf(this.#child);
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The process id, for synchronous last-resort cleanup. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The last lines of the log, for error messages. */
  tail(lines = 30): string {
    try {
      return readFileSync(this.#logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Throws with the log tail if the process has exited. */
  assertRunning(): void {
    if (!this.running) {
      throw new Error(
        `${this.#name} exited (code ${String(this.#child.exitCode)}):\n${this.tail()}`,
      );
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGTERM');
    const timeout = sleep(graceMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.#exited, timeout])) === 'timeout') {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined, or throws
 * after `timeoutMs` with `what` and the last error seen.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}
