/**
 * Request annotations, as Flux handles `reconcile.fluxcd.io/requestedAt`: any new value asks for
 * its action once; the value acted on is echoed in status, and an equal value is not acted on
 * again. Pure.
 */

/** The value of `annotation` when it is new (differs from `handled`); undefined otherwise. */
export function pendingRequest(
  annotations: Readonly<Record<string, string>>,
  annotation: string,
  handled: string | undefined,
): string | undefined {
  const value = annotations[annotation];
  return value !== undefined && value !== handled ? value : undefined;
}
