/**
 * Test-only fault injection for the intake, as decorators of the inbox port (set through
 * TRIBUTARY_FAULT_INJECTION, never in production): `intake-crash-after-commit` kills the process
 * (SIGKILL: nothing flushed, nothing answered) right after a delivery is committed and before the
 * 2xx is written; `intake-hold-deliveries` claims nothing, so stored deliveries wait unprocessed
 * (a kill then lands after the 2xx and before processing); `intake-store-read-only` opens the
 * SQLite inbox read-only (operator/commands/intake.ts), as a volume remounted read-only.
 */
import type { Inbox } from '../api/index.ts';

/** The faults the intake understands. */
export const INTAKE_FAULTS = [
  'intake-crash-after-commit',
  'intake-hold-deliveries',
  'intake-store-read-only',
] as const;
/** One intake fault. */
export type IntakeFault = (typeof INTAKE_FAULTS)[number];

/** `inbox` with some methods replaced; the others call the engine itself. */
function overriding(inbox: Inbox, overrides: Partial<Inbox>): Inbox {
  return new Proxy(inbox, {
    get(target, property, receiver) {
      if (Object.hasOwn(overrides, property))
        return Reflect.get(overrides, property, receiver) as unknown;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

/** `inbox` with `fault` injected; the inbox itself when there is none. */
export function withFault(inbox: Inbox, fault: string | undefined): Inbox {
  if (fault === 'intake-crash-after-commit') {
    return overriding(inbox, {
      async put(delivery) {
        const outcome = await inbox.put(delivery);
        if (outcome === 'stored') process.kill(process.pid, 'SIGKILL');
        return outcome;
      },
    });
  }
  if (fault === 'intake-hold-deliveries')
    return overriding(inbox, { claim: () => Promise.resolve([]) });
  return inbox;
}
