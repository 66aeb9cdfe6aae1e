/** Bounded concurrency for the records of one page. */

/**
 * Calls `task` for every item with at most `limit` calls in flight. After the first rejection
 * no new call starts; in-flight calls settle, then the first error is thrown. `shouldStop` is checked before each
 * new call (SIGTERM: start nothing new).
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && !shouldStop() && next < items.length) {
      const index = next++;
      try {
        await task(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  await Promise.all(workers);
  if (failure !== undefined) throw failure.error;
}
