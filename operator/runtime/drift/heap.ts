/**
 * The heap of the drift check's k-way merge (spill.ts): the smallest encoded entry among the
 * run files being merged, one entry per file, in line order with ties by file index so equal
 * lines come out in file order.
 */

/** An encoded entry and the run file it was read from. */
export interface HeapItem {
  /** The encoded entry (a line of a run file). */
  line: string;
  /** Index of the reader the entry came from. */
  source: number;
}

/** A binary min-heap of encoded entries in line order, ties by reader index. */
export class EntryHeap {
  #items: HeapItem[] = [];

  /** The smallest item, or undefined when the heap is empty. */
  peek(): HeapItem | undefined {
    return this.#items[0];
  }

  /** Adds `item`. */
  push(item: HeapItem): void {
    const items = this.#items;
    items.push(item);
    let child = items.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!less(items[child] as HeapItem, items[parent] as HeapItem)) break;
      [items[child], items[parent]] = [items[parent] as HeapItem, items[child] as HeapItem];
      child = parent;
    }
  }

  /** Removes the smallest item. */
  pop(): void {
    const last = this.#items.pop();
    if (last !== undefined && this.#items.length > 0) this.replaceTop(last);
  }

  /** Replaces the smallest item by `item` (cheaper than pop then push). */
  replaceTop(item: HeapItem): void {
    const items = this.#items;
    items[0] = item;
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      if (left >= items.length) return;
      const right = left + 1;
      const smaller =
        right < items.length && less(items[right] as HeapItem, items[left] as HeapItem)
          ? right
          : left;
      if (!less(items[smaller] as HeapItem, items[parent] as HeapItem)) return;
      [items[smaller], items[parent]] = [items[parent] as HeapItem, items[smaller] as HeapItem];
      parent = smaller;
    }
  }

  /** Removes every item. */
  clear(): void {
    this.#items = [];
  }
}

function less(a: HeapItem, b: HeapItem): boolean {
  return a.line < b.line || (a.line === b.line && a.source < b.source);
}
