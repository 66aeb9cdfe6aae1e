import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineReader, LineWriter, forEachLine } from '../../../operator/lib/lines.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(name = 'lines.txt'): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-lines-test-'));
  dirs.push(dir);
  return join(dir, name);
}

function readAll(path: string, blockBytes?: number): string[] {
  const lines: string[] = [];
  forEachLine(path, (line) => lines.push(line), blockBytes);
  return lines;
}

describe('LineWriter', () => {
  it('writes every line with a line feed, across many blocks', () => {
    const path = tempFile();
    const writer = new LineWriter(path, { blockChars: 8 });
    const lines = Array.from({ length: 50 }, (_, i) => `line ${String(i)}`);
    for (const line of lines) writer.write(line);
    writer.close();
    expect(readFileSync(path, 'utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
  });

  it('with flags wx refuses a file that exists, and sets the mode it is given', () => {
    const path = tempFile();
    new LineWriter(path, { flags: 'wx', mode: 0o600 }).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(() => new LineWriter(path, { flags: 'wx' })).toThrow(/EEXIST/);
  });
});

describe('LineReader and forEachLine', () => {
  it.each([
    ['a tiny block', 1],
    ['a block larger than the file', 1 << 16],
  ])('read back multi-byte lines whole with %s', (_name, blockBytes) => {
    const path = tempFile();
    const lines = ['ascii', 'é à ü', '日本語のテキスト', '', '🙂 emoji'];
    writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
    expect(readAll(path, blockBytes)).toEqual(lines);
  });

  it('returns a last line without a line feed too', () => {
    const path = tempFile();
    writeFileSync(path, 'a\nb\nlast');
    expect(readAll(path, 2)).toEqual(['a', 'b', 'last']);
  });

  it('ends at once after close, and close may be called twice', () => {
    const path = tempFile();
    writeFileSync(path, 'a\nb\n');
    const reader = new LineReader(path);
    expect(reader.next()).toBe('a');
    reader.close();
    reader.close();
    expect(reader.next()).toBeUndefined();
  });
});
