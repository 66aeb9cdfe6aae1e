/**
 * Logging: pino JSON to stdout, with credentials redacted, and cheap child loggers carrying the
 * context of one reconcile. Keys as controller-runtime's zap logger writes them: `level` a string
 * (`info`), `time` ISO 8601 UTC, `logger` the component (`tributary`, `tributary-sync`), so
 * `name` is only ever the object's name.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { splitKey } from './key.ts';

/** The logger type every machinery component takes. */
export type Log = Logger;

/** Field names removed from every log line at any of the first four levels of nesting. */
export const REDACTED_FIELDS = [
  'token',
  'authorization',
  'Authorization',
  'password',
  'apiKey',
  'secret',
] as const;

/** pino redaction paths for {@link REDACTED_FIELDS}: top level and up to three objects deep. */
export function redactionPaths(): string[] {
  const prefixes = ['', '*.', '*.*.', '*.*.*.'];
  return prefixes.flatMap((prefix) => REDACTED_FIELDS.map((field) => `${prefix}${field}`));
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LevelWithSilent;
  /** Value of the `logger` field on every line. Default `tributary`. */
  name?: string;
  /** Where lines go. Default stdout (fd 1); tests pass a stream to capture lines. */
  destination?: DestinationStream;
}

/** A pino logger writing JSON lines, with secret-looking fields removed (never masked). */
export function createLogger(options: LoggerOptions = {}): Log {
  return pino(
    {
      level: options.level ?? 'info',
      base: { logger: options.name ?? 'tributary', pid: process.pid, hostname: hostname() },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactionPaths(), remove: true },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A short random id (8 hex chars) that tells the lines of one reconcile apart. */
export function newReconcileID(): string {
  return randomBytes(4).toString('hex');
}

/** The child logger of one reconcile: `controller`, `namespace`, `name`, `reconcileID`. */
export function reconcileLogger(
  log: Log,
  controller: string,
  key: string,
  reconcileID = newReconcileID(),
): Log {
  const { namespace, name } = splitKey(key);
  return log.child({ controller, namespace, name, reconcileID });
}

/** What identifies one run (an attempt of a sync or drift check) in operator and run-pod lines. */
export interface RunLogKeys {
  integration: string;
  uid: string;
  job: string;
  kind: string;
  attempt: number;
  /** The due time of the run, RFC 3339. */
  dueTime: string;
}

/**
 * The correlation keys of one run, the same on the operator's lines about it and on its pod's
 * lines (with `namespace`, which reconcile loggers already carry): one query joins them.
 */
export function runLogKeys(run: {
  integration: string;
  uid: string;
  job: string;
  kind: string;
  attempt: number;
  dueTime: Date | string;
}): RunLogKeys {
  // One spelling on both sides (whole seconds, as Job names and the due-time annotation have it).
  const dueTime = new Date(run.dueTime).toISOString().replace(/\.000Z$/, 'Z');
  return { ...run, dueTime };
}
