/**
 * External sort of drift entries with bounded memory: entries are buffered up to a record and
 * byte budget, each full buffer is sorted and spilled to a run file, and the runs are merged
 * k ways (in several passes when there are more than `maxFanIn`) into one sorted stream.
 * When nothing was spilled the buffer is streamed from memory and no file is written.
 *
 * Run files hold one entry per line: `id TAB fingerprint TAB payload LF`, the id escaped
 * (`\\`, `\t`, `\n`) and the payload JSON (which never contains a raw tab or line feed).
 * Reads and writes are synchronous and block-sized: a run inside a Job does nothing else
 * meanwhile, and a synchronous merge avoids a promise per entry.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** One record of one side, reduced to what the comparison needs. */
export interface Entry {
  /** The record id, as a string. */
  id: string;
  /** The fingerprint of the contracted fields. */
  hash: string;
  /** The record's JSON, kept on the source side in Repair mode to re-apply it. */
  payload?: string | undefined;
}

/** A sorted sequence of entries read one at a time, synchronously. */
export interface SortedStream {
  /** The next entry in (id, hash) order, or undefined at the end. */
  next(): Entry | undefined;
  /** Releases files; the stream ends. */
  close(): void;
}

/** Options of {@link ExternalSorter}. */
export interface SorterOptions {
  /** Existing directory for the run files; the caller removes it. */
  dir: string;
  /** Prefix of the run file names, e.g. `source`. */
  name: string;
  /** Entries held in memory before a run is spilled. Default 100_000. */
  maxRecords?: number | undefined;
  /** Characters (ids, fingerprints, payloads) held before a run is spilled. Default 32 Mi. */
  maxChars?: number | undefined;
  /** Runs merged at once; more runs are merged in several passes. Default 64. */
  maxFanIn?: number | undefined;
  /** Bytes read or written per system call. Default 1 MiB. */
  blockBytes?: number | undefined;
}

/** Orders entries by id, then fingerprint, by UTF-16 code units (the same everywhere). */
export function compareEntries(a: Entry, b: Entry): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  if (a.hash !== b.hash) return a.hash < b.hash ? -1 : 1;
  return 0;
}

/** Sorts entries with memory bounded by the options, spilling sorted runs to files. */
export class ExternalSorter {
  readonly #dir: string;
  readonly #name: string;
  readonly #maxRecords: number;
  readonly #maxChars: number;
  readonly #maxFanIn: number;
  readonly #blockBytes: number;
  #buffer: Entry[] = [];
  #chars = 0;
  #runs: string[] = [];
  #files = 0;
  #count = 0;

  /** Stores the options; no I/O until the first spill. */
  constructor(options: SorterOptions) {
    this.#dir = options.dir;
    this.#name = options.name;
    this.#maxRecords = Math.max(1, options.maxRecords ?? 100_000);
    this.#maxChars = Math.max(1, options.maxChars ?? 32 * 1024 * 1024);
    this.#maxFanIn = Math.max(2, options.maxFanIn ?? 64);
    this.#blockBytes = Math.max(4096, options.blockBytes ?? 1024 * 1024);
  }

  /** Entries added so far. */
  get count(): number {
    return this.#count;
  }

  /** Run files written so far (merge passes included); 0 when everything fit in memory. */
  get filesWritten(): number {
    return this.#files;
  }

  /** Adds an entry; spills a sorted run when the buffer reaches its budget. */
  add(entry: Entry): void {
    this.#buffer.push(entry);
    this.#count++;
    this.#chars += entry.id.length + entry.hash.length + (entry.payload?.length ?? 0);
    if (this.#buffer.length >= this.#maxRecords || this.#chars >= this.#maxChars) this.#spill();
  }

  /** Ends the input and returns every entry in order; call once. */
  sorted(): SortedStream {
    if (this.#runs.length === 0) {
      const entries = this.#buffer.sort(compareEntries);
      this.#buffer = [];
      let index = 0;
      return {
        next: () => entries[index++],
        close: () => {
          index = entries.length;
        },
      };
    }
    if (this.#buffer.length > 0) this.#spill();
    while (this.#runs.length > this.#maxFanIn) this.#mergePass();
    return this.#merge(this.#runs);
  }

  #spill(): void {
    this.#buffer.sort(compareEntries);
    const path = this.#newFile();
    const writer = new BlockWriter(path, this.#blockBytes);
    for (const entry of this.#buffer) writer.write(encodeEntry(entry));
    writer.close();
    this.#runs.push(path);
    this.#buffer = [];
    this.#chars = 0;
  }

  /** Merges groups of `maxFanIn` runs into one run each. */
  #mergePass(): void {
    const merged: string[] = [];
    for (let start = 0; start < this.#runs.length; start += this.#maxFanIn) {
      const group = this.#runs.slice(start, start + this.#maxFanIn);
      if (group.length === 1) {
        merged.push(...group);
        continue;
      }
      const path = this.#newFile();
      const writer = new BlockWriter(path, this.#blockBytes);
      const stream = this.#merge(group);
      for (let entry = stream.next(); entry !== undefined; entry = stream.next()) {
        writer.write(encodeEntry(entry));
      }
      writer.close();
      stream.close();
      merged.push(path);
    }
    this.#runs = merged;
  }

  #newFile(): string {
    this.#files++;
    return join(this.#dir, `${this.#name}-${String(this.#files)}.run`);
  }

  /** A k-way merge of sorted run files; closing removes them. */
  #merge(paths: readonly string[]): SortedStream {
    const readers = paths.map((path) => new RunReader(path, this.#blockBytes));
    const heap = new EntryHeap();
    readers.forEach((reader, index) => {
      const entry = reader.next();
      if (entry !== undefined) heap.push({ entry, source: index });
    });
    return {
      next: () => {
        const top = heap.peek();
        if (top === undefined) return undefined;
        const { entry, source } = top;
        const following = readers[source]?.next();
        if (following === undefined) heap.pop();
        else heap.replaceTop({ entry: following, source });
        return entry;
      },
      close: () => {
        for (const reader of readers) reader.close();
        for (const path of paths) rmSync(path, { force: true });
        heap.clear();
      },
    };
  }
}

/** One line of a run file. */
export function encodeEntry(entry: Entry): string {
  const id = /[\\\t\n]/.test(entry.id) ? entry.id.replace(/[\\\t\n]/g, escapeChar) : entry.id;
  return `${id}\t${entry.hash}\t${entry.payload ?? ''}\n`;
}

/** The entry of one line of a run file (without its line feed). */
export function decodeEntry(line: string): Entry {
  const first = line.indexOf('\t');
  const second = line.indexOf('\t', first + 1);
  const raw = line.slice(0, first);
  const id = raw.includes('\\') ? raw.replace(/\\(.)/g, unescapeChar) : raw;
  const payload = line.slice(second + 1);
  return { id, hash: line.slice(first + 1, second), payload: payload === '' ? undefined : payload };
}

function escapeChar(char: string): string {
  return char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\\\';
}

function unescapeChar(_match: string, char: string): string {
  return char === 't' ? '\t' : char === 'n' ? '\n' : char;
}

/** Appends text to a file in blocks. */
class BlockWriter {
  readonly #fd: number;
  readonly #blockChars: number;
  #parts: string[] = [];
  #chars = 0;

  constructor(path: string, blockBytes: number) {
    this.#fd = openSync(path, 'wx', 0o600);
    this.#blockChars = blockBytes;
  }

  write(text: string): void {
    this.#parts.push(text);
    this.#chars += text.length;
    if (this.#chars >= this.#blockChars) this.#flush();
  }

  close(): void {
    this.#flush();
    closeSync(this.#fd);
  }

  #flush(): void {
    if (this.#parts.length === 0) return;
    writeSync(this.#fd, this.#parts.join(''));
    this.#parts = [];
    this.#chars = 0;
  }
}

/** Reads the entries of a run file in blocks. */
class RunReader {
  readonly #fd: number;
  readonly #block: Buffer;
  readonly #decoder = new StringDecoder('utf8');
  #lines: string[] = [];
  #index = 0;
  #rest = '';
  #ended = false;
  #closed = false;

  constructor(path: string, blockBytes: number) {
    this.#fd = openSync(path, 'r');
    this.#block = Buffer.allocUnsafe(blockBytes);
  }

  next(): Entry | undefined {
    while (this.#index >= this.#lines.length) {
      if (this.#ended) return undefined;
      this.#fill();
    }
    return decodeEntry(this.#lines[this.#index++] as string);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    this.#lines = [];
    closeSync(this.#fd);
  }

  #fill(): void {
    const read = readSync(this.#fd, this.#block, 0, this.#block.length, null);
    const text =
      read === 0
        ? this.#rest + this.#decoder.end()
        : this.#rest + this.#decoder.write(this.#block.subarray(0, read));
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    if (read === 0) this.#ended = true;
    this.#lines = lines;
    this.#index = 0;
  }
}

interface HeapItem {
  entry: Entry;
  /** Index of the reader the entry came from. */
  source: number;
}

/** A binary min-heap of entries by {@link compareEntries}, ties by reader index. */
class EntryHeap {
  #items: HeapItem[] = [];

  peek(): HeapItem | undefined {
    return this.#items[0];
  }

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

  pop(): void {
    const last = this.#items.pop();
    if (last !== undefined && this.#items.length > 0) this.replaceTop(last);
  }

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

  clear(): void {
    this.#items = [];
  }
}

function less(a: HeapItem, b: HeapItem): boolean {
  const order = compareEntries(a.entry, b.entry);
  return order < 0 || (order === 0 && a.source < b.source);
}
