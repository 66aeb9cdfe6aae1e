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

/**
 * Iterates `source` one item ahead: item N+1 is being fetched while the consumer works on item
 * N (the next page downloads while the current one is written). Items and errors arrive in
 * source order, and an error fetching item N+1 surfaces only after the consumer asks for it, so
 * whatever the consumer committed for item N stays committed. Ending early (break, throw)
 * closes `source` and discards a read-ahead in flight, its rejection included.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined = iterator.next();
  try {
    for (;;) {
      const current: IteratorResult<T> = await pending;
      pending = undefined;
      if (current.done === true) return;
      pending = iterator.next();
      // Observed now so a rejection while the consumer is busy is not "unhandled"; it is
      // rethrown by the await above when the consumer comes back for it.
      pending.catch(() => undefined);
      yield current.value;
    }
  } finally {
    if (pending !== undefined) {
      // An async generator handles return() only after the next() in flight; wait for it here,
      // with its rejection (the consumer's own error is the one that propagates).
      await pending.catch(() => undefined);
      await iterator.return?.();
    }
  }
}
