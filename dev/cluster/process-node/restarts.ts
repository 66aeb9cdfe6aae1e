/**
 * The kubelet's container restarts: whether an exited container runs again (`restartPolicy`)
 * and after how long (the CrashLoopBackOff back-off). Pure.
 */

/** The back-off cap: five minutes, as in the kubelet. */
export const MAX_BACKOFF_MS = 300_000;

/** A run this long resets the back-off (the kubelet forgets a back-off after twice its cap). */
export const BACKOFF_RESET_MS = 2 * MAX_BACKOFF_MS;

/** `Always` (the API default for a bare pod) restarts any exit, `OnFailure` a non-zero one. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  switch (restartPolicy ?? 'Always') {
    case 'Always':
      return true;
    case 'OnFailure':
      return exitCode !== 0;
    default:
      return false;
  }
}

/**
 * The delay before the next restart of a container that was restarted `count` times in a row
 * (its back-off count) and whose last run took `ranMs`: the first restart is immediate, then
 * 10 s, 20 s, 40 s ... up to 5 min; a run of 10 min or more starts over. Returns the new count.
 */
export function restartBackoff(count: number, ranMs: number): { delayMs: number; count: number } {
  const current = ranMs >= BACKOFF_RESET_MS ? 0 : count;
  const delayMs = current <= 0 ? 0 : Math.min(10_000 * 2 ** (current - 1), MAX_BACKOFF_MS);
  return { delayMs, count: current + 1 };
}

/** The kubelet's CrashLoopBackOff message. */
export function crashLoopMessage(
  delayMs: number,
  container: string,
  pod: { namespace: string; name: string; uid: string },
): string {
  return `back-off ${Math.round(delayMs / 1000)}s restarting failed container=${container} pod=${pod.name}_${pod.namespace}(${pod.uid})`;
}
