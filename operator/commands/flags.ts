/**
 * Reading a command's settings from its flags and environment, one way for every command: a flag
 * wins over its environment variable, and a value that cannot be used is a {@link UsageError}
 * naming the flag (and the variable), which the CLI turns into exit status 2.
 */
import { parseDuration } from '../api/index.ts';
import { namespaceList } from '../lib/namespaces.ts';

/** A command line that cannot be run: a flag that is unknown, missing its value or invalid. */
export class UsageError extends Error {
  /** Stable code of the family; the process exits 2. */
  readonly code = 'USAGE';
  override readonly name = 'UsageError';
}

/** Flag values as parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | undefined>;

/** One setting's raw value and how to name it in an error. */
export interface Setting {
  raw: string | undefined;
  what: string;
}

/** A reader of settings: `read('metrics-port', 'METRICS_PORT')`. */
export function settingsReader(values: FlagValues, env: NodeJS.ProcessEnv) {
  return (flag: string, variable: string): Setting => {
    const value = values[flag];
    const raw = typeof value === 'string' ? value : env[variable];
    const what = typeof value === 'string' ? `--${flag}` : `${variable} (--${flag})`;
    return { raw: raw === '' ? undefined : raw, what };
  };
}

/** A whole number from 1 to `max`, or `fallback` when unset. */
export function integer(value: Setting, fallback: number, max: number): number {
  if (value.raw === undefined) return fallback;
  const number = /^\d+$/.test(value.raw.trim()) ? Number(value.raw) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < 1 || number > max) {
    throw new UsageError(
      `${value.what} must be a whole number from 1 to ${max}, got ${JSON.stringify(value.raw)}`,
    );
  }
  return number;
}

/** A number above 0 and at most `max`, decimals allowed (e.g. a rate of `0.5`), or `fallback` when unset. */
export function positiveNumber(value: Setting, fallback: number, max: number): number {
  if (value.raw === undefined) return fallback;
  const text = value.raw.trim();
  const number = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(number > 0 && number <= max)) {
    throw new UsageError(
      `${value.what} must be a number above 0 and at most ${max}, got ${JSON.stringify(value.raw)}`,
    );
  }
  return number;
}

/** One of `choices`, or `fallback` when unset. */
export function oneOf<T extends string>(value: Setting, choices: readonly T[], fallback: T): T {
  if (value.raw === undefined) return fallback;
  if ((choices as readonly string[]).includes(value.raw)) return value.raw as T;
  throw new UsageError(
    `${value.what} must be one of ${choices.join(', ')}, got ${JSON.stringify(value.raw)}`,
  );
}

/** A duration such as `90s` or `2m` (Go style), or `fallback` when unset. */
export function durationSetting(value: Setting, fallback: string): string {
  if (value.raw === undefined) return fallback;
  if (parseDuration(value.raw) !== undefined) return value.raw;
  throw new UsageError(
    `${value.what} must be a duration such as 90s or 2m, got ${JSON.stringify(value.raw)}`,
  );
}

/** The namespaces of `--namespace` / WATCH_NAMESPACE (a comma-separated list); empty: all. */
export function namespacesSetting(value: Setting): string[] {
  try {
    return namespaceList(value.raw);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The levels `--log-level` accepts. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
/** A level `--log-level` accepts. */
export type LogLevel = (typeof LOG_LEVELS)[number];
