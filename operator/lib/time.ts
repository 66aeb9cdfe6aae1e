/** Time as Kubernetes writes it. */

/** Formats a time as Kubernetes writes timestamps: RFC 3339 in UTC, whole seconds. */
export function rfc3339(time: Date): string {
  return new Date(floorSecond(time)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The time truncated to its whole second, in ms epoch (timestamps in status have seconds only). */
export function floorSecond(time: Date | number): number {
  const ms = typeof time === 'number' ? time : time.getTime();
  return Math.floor(ms / 1000) * 1000;
}

/**
 * A timestamp as client-node hands it over (a Date or a string, depending on the path), or
 * undefined when absent or unparsable.
 */
export function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
