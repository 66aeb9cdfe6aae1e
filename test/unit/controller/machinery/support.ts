/** Test helpers for the controller machinery: a capturing logger and a deferred promise. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Log } from '../../../../operator/lib/log.ts';
import { createLogger } from '../../../../operator/lib/log.ts';

/** A logger that keeps its JSON lines in memory. */
export function captureLogger(): { log: Log; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines };
}

/** A logger that writes nothing. */
export function silentLogger(): Log {
  return pino({ level: 'silent' });
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
