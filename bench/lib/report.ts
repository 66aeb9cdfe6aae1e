/** Statistics and plain-text output shared by the benchmarks. */
import { cpus, platform, arch, totalmem } from 'node:os';

export { percentile } from '../../dev/stats.ts';

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One line describing the machine: cores, CPU model, memory, OS, Node version. */
export function machine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  const memory = (totalmem() / 2 ** 30).toFixed(1);
  return `${list.length} cores (${model}), ${memory} GiB RAM, ${platform()} ${arch()}, node ${process.version}`;
}

/** `1234567` → `1 234 567` (thin grouping that survives copy-paste into a table). */
export function grouped(value: number): string {
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** Seconds with two decimals. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** KiB as MiB with one decimal. */
export function mebibytes(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** A ratio as `1.23×`. */
export function times(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** Renders rows as an aligned text table; columns listed in `right` are right-aligned. */
export function table(header: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return right.has(i) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
