/**
 * The "did status change" check before a status write, shared by every reconciler: statuses
 * are compared as the API server would store them, so a field set to undefined equals a field
 * that is absent and an unchanged status is never written (one write per reconcile at most).
 */
import { isDeepStrictEqual } from 'node:util';

/** True when `after`, serialized, differs from `before` (absent `before` is an empty status). */
export function statusChanged(before: unknown, after: unknown): boolean {
  return !isDeepStrictEqual(serialized(before ?? {}), serialized(after ?? {}));
}

function serialized(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
