/**
 * Line files read and written in blocks, synchronously: one system call per block, not per
 * line, for code that streams many short lines through files (the drift check's run files, the
 * bench's data) and does nothing else meanwhile. Lines never contain a line feed.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Options of {@link LineWriter}. */
export interface LineWriterOptions {
  /** Characters buffered before a write. Default 64 Ki. */
  blockChars?: number | undefined;
  /** `fs.open` flags: `wx` refuses an existing file. Default `w` (create or truncate). */
  flags?: string | undefined;
  /** Permission bits of a created file. Default 0o666 (before the umask). */
  mode?: number | undefined;
}

/** Writes lines to a file, each followed by a line feed, in blocks; {@link close} flushes. */
export class LineWriter {
  readonly #fd: number;
  readonly #blockChars: number;
  #parts: string[] = [];
  #chars = 0;

  /** Opens (creates) `path` at once: a file that cannot be created fails here, not later. */
  constructor(path: string, options: LineWriterOptions = {}) {
    this.#fd = openSync(path, options.flags ?? 'w', options.mode ?? 0o666);
    this.#blockChars = options.blockChars ?? 64 * 1024;
  }

  /** Appends `line` and a line feed. */
  write(line: string): void {
    this.#parts.push(line, '\n');
    this.#chars += line.length + 1;
    if (this.#chars >= this.#blockChars) this.#flush();
  }

  /** Writes what is buffered and closes the file; call once. */
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

/** Reads the lines of a file one at a time, in blocks of `blockBytes` (UTF-8 safe). */
export class LineReader {
  readonly #fd: number;
  readonly #block: Buffer;
  readonly #decoder = new StringDecoder('utf8');
  #lines: string[] = [];
  #index = 0;
  #rest = '';
  #ended = false;
  #closed = false;

  /** Opens `path` at once. Default block 64 KiB. */
  constructor(path: string, blockBytes = 64 * 1024) {
    this.#fd = openSync(path, 'r');
    this.#block = Buffer.allocUnsafe(blockBytes);
  }

  /** The next line without its line feed (a last line without one too), or undefined at the end. */
  next(): string | undefined {
    while (this.#index >= this.#lines.length) {
      if (this.#ended) return undefined;
      this.#fill();
    }
    return this.#lines[this.#index++];
  }

  /** Closes the file; later calls of {@link next} return undefined. Safe to call twice. */
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
    if (read === 0) {
      this.#ended = true;
      if (this.#rest !== '') lines.push(this.#rest);
      this.#rest = '';
    }
    this.#lines = lines;
    this.#index = 0;
  }
}

/** Calls `onLine` for every line of the file at `path` (see {@link LineReader}). */
export function forEachLine(
  path: string,
  onLine: (line: string) => void,
  blockBytes?: number,
): void {
  const reader = new LineReader(path, blockBytes);
  try {
    for (let line = reader.next(); line !== undefined; line = reader.next()) onLine(line);
  } finally {
    reader.close();
  }
}
