/**
 * Deterministic names for run Jobs and label values for Integrations. The Job name is the lock
 * against duplicate runs (docs/connectors.md): the same (integration, kind, due time, attempt) always
 * gives the same name, so a create that races a crash fails with AlreadyExists instead of
 * starting a second run. Names are never parsed back: Jobs are found by their labels.
 */
import { createHash } from 'node:crypto';
import { isDnsLabel, type RunKind } from '../../api/index.ts';

/** Longest label value, and so longest Job name (the Job controller copies it into `job-name`). */
export const MAX_LABEL_LENGTH = 63;
/** Hex characters of the hash that stands in for the cut part of a long name. */
export const NAME_HASH_LENGTH = 10;

/**
 * Characters kept free for the suffix: `-s-`, 10 digits of seconds, `-`, and up to 3 digits of
 * attempt (maxAttempts ≤ 100), so an Integration keeps one prefix across all its attempts.
 */
const SUFFIX_ROOM = 17;

const KIND_LETTER: Readonly<Record<RunKind, string>> = { sync: 's', 'drift-check': 'd' };

/** The first `length` hex characters of the SHA-256 of `text`: stable across processes. */
export function shortHash(text: string, length = NAME_HASH_LENGTH): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * `name` itself when it is a DNS-1123 label of at most `maxLength` characters; otherwise its
 * longest prefix that fits, with characters outside [a-z0-9-] replaced by `-`, followed by `-`
 * and a hash of the whole name, so two long names with a common prefix stay distinct.
 */
export function fitName(name: string, maxLength: number): string {
  if (isDnsLabel(name, maxLength)) return name;
  const room = Math.max(0, maxLength - NAME_HASH_LENGTH - 1);
  const prefix = name
    .slice(0, room)
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+$/, '');
  return prefix === '' ? shortHash(name) : `${prefix}-${shortHash(name)}`;
}

/** Input of {@link jobName}. */
export interface JobNameInput {
  /** metadata.name of the Integration (a DNS-1123 subdomain, up to 253 characters). */
  integration: string;
  /** What the run is for. */
  kind: RunKind;
  /** When the run was due; whole seconds are used. */
  dueTime: Date;
  /** Attempt number within the due run, from 1. */
  attempt: number;
}

/**
 * The Job name of one attempt: `<integration>-<s|d>-<due time in seconds since epoch>-<attempt>`,
 * e.g. `stripe-customers-s-1767607200-1`; a DNS-1123 label of at most 63 characters. Names of
 * up to 46 characters without dots are kept; others are shortened by {@link fitName}. Seconds, not CronJob's minutes,
 * because an interval may be as short as 10s.
 */
export function jobName({ integration, kind, dueTime, attempt }: JobNameInput): string {
  const seconds = Math.floor(dueTime.getTime() / 1000);
  const suffix = `-${KIND_LETTER[kind]}-${seconds}-${attempt}`;
  const room = MAX_LABEL_LENGTH - Math.max(SUFFIX_ROOM, suffix.length);
  return `${fitName(integration, room)}${suffix}`;
}

/**
 * The value of the `tributary.dev/integration` label: the Integration name when it has at most
 * 63 characters (every DNS-1123 subdomain is a valid label value), otherwise its first 52
 * characters (trailing `-`/`.` removed) + `-` + a 10-character hash of the whole name.
 * Select by `tributary.dev/integration-uid` when exactness matters.
 */
export function integrationLabelValue(name: string): string {
  if (name.length <= MAX_LABEL_LENGTH) return name;
  const prefix = name.slice(0, MAX_LABEL_LENGTH - NAME_HASH_LENGTH - 1).replace(/[-.]+$/, '');
  return `${prefix}-${shortHash(name)}`;
}
