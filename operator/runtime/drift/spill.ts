/**
 * External sort of drift entries with bounded memory: entries are buffered up to a record and
 * byte budget, each full buffer is sorted and spilled to a run file, and the runs are merged
 * k ways (in several passes when there are more than `maxFanIn`) into one sorted stream.
 * When nothing was spilled the buffer is streamed from memory and no file is written.
 *
 * Entries travel as encoded lines, `id TAB fingerprint TAB payload`, from the buffer to the run
 * files and through the merge, and are decoded only where a difference is found: sorting plain
 * strings with the engine's built-in order is about three times faster than sorting objects with
 * a comparator, and nothing is allocated per entry. The id is escaped so that it holds no
 * character below U+000B (`\` → `\\`, U+0000–U+000A → `\xHH`): the tab after it then sorts
 * before any id character, so line order is (escaped id, fingerprint) order, the same in every
 * buffer, file and merge. The payload is JSON, which never holds a raw tab or line feed.
 * Reads and writes are synchronous and block-sized: a run inside a Job does nothing else
 * meanwhile, and a synchronous merge avoids a promise per entry.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LineReader, LineWriter } from '../../lib/lines.ts';
import { EntryHeap } from './heap.ts';

/** One record of one side, reduced to what the comparison needs. */
export interface Entry {
  /** The record id, as a string. */
  id: string;
  /** The fingerprint of the contracted fields. */
  hash: string;
  /** The record's JSON, kept on the source side in Repair mode to re-apply it. */
  payload?: string | undefined;
}

/** A sorted sequence of encoded entries ({@link encodeEntry}) read one at a time, synchronously. */
export interface SortedStream {
  /** The next encoded entry in line order, or undefined at the end. */
  next(): string | undefined;
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
  /**
   * Bytes read or written per system call. Each run being merged holds about three times this
   * (the block, its text, its lines), so the merge costs about `3 × maxFanIn × blockBytes`.
   * Default 64 KiB.
   */
  blockBytes?: number | undefined;
}

/** Sorts entries with memory bounded by the options, spilling sorted runs to files. */
export class ExternalSorter {
  readonly #dir: string;
  readonly #name: string;
  readonly #maxRecords: number;
  readonly #maxChars: number;
  readonly #maxFanIn: number;
  readonly #blockBytes: number;
  #buffer: string[] = [];
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
    this.#blockBytes = Math.max(4096, options.blockBytes ?? 64 * 1024);
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
    const line = encodeEntry(entry);
    this.#buffer.push(line);
    this.#count++;
    this.#chars += line.length;
    if (this.#buffer.length >= this.#maxRecords || this.#chars >= this.#maxChars) this.#spill();
  }

  /** Ends the input and returns every entry in order; call once. */
  sorted(): SortedStream {
    if (this.#runs.length === 0) {
      const entries = this.#buffer.sort();
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
    this.#buffer.sort();
    const path = this.#newFile();
    const writer = this.#runWriter(path);
    for (const line of this.#buffer) writer.write(line);
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
      const writer = this.#runWriter(path);
      const stream = this.#merge(group);
      for (let line = stream.next(); line !== undefined; line = stream.next()) writer.write(line);
      writer.close();
      stream.close();
      merged.push(path);
    }
    this.#runs = merged;
  }

  /** Run files are private to the run and never reused: `wx` refuses one left behind. */
  #runWriter(path: string): LineWriter {
    return new LineWriter(path, { blockChars: this.#blockBytes, flags: 'wx', mode: 0o600 });
  }

  #newFile(): string {
    this.#files++;
    return join(this.#dir, `${this.#name}-${String(this.#files)}.run`);
  }

  /** A k-way merge of sorted run files; closing removes them. */
  #merge(paths: readonly string[]): SortedStream {
    const readers = paths.map((path) => new LineReader(path, this.#blockBytes));
    const heap = new EntryHeap();
    readers.forEach((reader, index) => {
      const line = reader.next();
      if (line !== undefined) heap.push({ line, source: index });
    });
    return {
      next: () => {
        const top = heap.peek();
        if (top === undefined) return undefined;
        const { line, source } = top;
        const following = readers[source]?.next();
        if (following === undefined) heap.pop();
        else heap.replaceTop({ line: following, source });
        return line;
      },
      close: () => {
        for (const reader of readers) reader.close();
        for (const path of paths) rmSync(path, { force: true });
        heap.clear();
      },
    };
  }
}

/** The line of an entry (without a line feed); see the module doc for the escaping. */
export function encodeEntry(entry: Entry): string {
  return `${escapeId(entry.id)}\t${entry.hash}\t${entry.payload ?? ''}`;
}

/** `id` with `\\` doubled and U+0000–U+000A as `\xHH`; most ids are returned as they are. */
function escapeId(id: string): string {
  let escaped: string | undefined;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code > 0x0a && code !== 0x5c) {
      if (escaped !== undefined) escaped += id.charAt(i);
      continue;
    }
    escaped ??= id.slice(0, i);
    escaped += code === 0x5c ? '\\\\' : `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return escaped ?? id;
}

/** The key of an encoded entry: its escaped id, equal for equal ids and ordered like lines. */
export function entryKey(line: string): string {
  return line.slice(0, line.indexOf('\t'));
}

/** The entry of an encoded line. */
export function decodeEntry(line: string): Entry {
  const first = line.indexOf('\t');
  const second = line.indexOf('\t', first + 1);
  const raw = line.slice(0, first);
  const id = raw.includes('\\') ? raw.replace(/\\(x[0-9a-f]{2}|\\)/g, unescapeChar) : raw;
  const payload = line.slice(second + 1);
  return { id, hash: line.slice(first + 1, second), payload: payload === '' ? undefined : payload };
}

function unescapeChar(_match: string, escaped: string): string {
  return escaped === '\\' ? '\\' : String.fromCharCode(parseInt(escaped.slice(1), 16));
}
