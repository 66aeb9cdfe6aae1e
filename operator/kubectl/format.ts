/** Pure formatting of `kubectl tributary` output: tables, ages, health, history and trees. */
import type { Integration, RunRecord } from '../api/index.ts';

/** Columns padded to their widest cell, separated by three spaces, as kubectl prints. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join('   ');
  return [header, ...rows].map(line).join('\n');
}

/** `5s`, `3m`, `2h`, `4d` between `time` and `now` ("in 3m" for the future); `-` when unset. */
export function relative(time: string | undefined, now: Date): string {
  if (time === undefined) return '-';
  const seconds = Math.round((Date.parse(time) - now.getTime()) / 1000);
  const amount = Math.abs(seconds);
  const text =
    amount < 120
      ? `${amount}s`
      : amount < 7200
        ? `${Math.floor(amount / 60)}m`
        : amount < 172_800
          ? `${Math.floor(amount / 3600)}h`
          : `${Math.floor(amount / 86_400)}d`;
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

/** The Ready condition of an Integration: status and message. */
export function readiness(integration: Integration): {
  ready: string;
  reason: string;
  message: string;
} {
  const ready = integration.status?.conditions?.find((condition) => condition.type === 'Ready');
  return {
    ready: ready?.status ?? 'Unknown',
    reason: ready?.reason ?? '',
    message: ready?.message ?? '',
  };
}

/** The rows of `get`: NAME READY SUSPENDED LAST SYNC NEXT SYNC MESSAGE (NAMESPACE first with -A). */
export function healthTable(
  integrations: Integration[],
  allNamespaces: boolean,
  now: Date,
): string {
  const header = ['NAME', 'READY', 'SUSPENDED', 'LAST SYNC', 'NEXT SYNC', 'MESSAGE'];
  const rows = integrations.map((integration) => {
    const { ready, message } = readiness(integration);
    const status = integration.status;
    const row = [
      integration.metadata.name,
      ready,
      integration.spec.suspend === true ? 'True' : 'False',
      relative(status?.lastSync?.completionTime, now),
      integration.spec.suspend === true ? '-' : relative(status?.nextSyncTime, now),
      message,
    ];
    return allNamespaces ? [integration.metadata.namespace ?? '', ...row] : row;
  });
  return table(allNamespaces ? ['NAMESPACE', ...header] : header, rows);
}

/** Seconds between a run's start and end, e.g. `12s`; `-` when either is unknown. */
export function duration(run: Pick<RunRecord, 'startTime' | 'completionTime'>): string {
  if (run.startTime === undefined || run.completionTime === undefined) return '-';
  const seconds = Math.max(
    0,
    Math.round((Date.parse(run.completionTime) - Date.parse(run.startTime)) / 1000),
  );
  return seconds < 120 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

/** What a run counted: written/failed for a sync, drift counts for a drift check. */
export function counts(run: RunRecord): string {
  if (run.drift !== undefined) {
    const { missing, unexpected, mismatched, repaired } = run.drift;
    return `missing=${missing} unexpected=${unexpected} mismatched=${mismatched}${repaired === undefined ? '' : ` repaired=${repaired}`}`;
  }
  const stats = run.stats;
  if (stats === undefined) return '-';
  return STAT_ORDER.map((key) => `${key}=${String(stats[key])}`).join(' ');
}

const STAT_ORDER = ['read', 'written', 'unchanged', 'quarantined', 'failed'] as const;

/** The `history` table: newest first, from status.history (else the last sync and drift check). */
export function historyTable(integration: Integration, now: Date): string {
  const status = integration.status;
  const runs =
    status?.history ??
    [status?.lastSync, status?.lastDriftCheck].filter((run) => run !== undefined);
  const rows = runs.map((run) => [
    run.jobName,
    run.kind,
    String(run.attempt),
    run.outcome,
    relative(run.completionTime, now),
    duration(run),
    run.reason ?? '',
    counts(run),
  ]);
  const active = status?.activeRun;
  if (active !== undefined) {
    rows.unshift([
      active.jobName,
      active.kind,
      String(active.attempt),
      'Running',
      '-',
      '-',
      '',
      '',
    ]);
  }
  return table(
    ['JOB', 'KIND', 'ATTEMPT', 'OUTCOME', 'FINISHED', 'DURATION', 'REASON', 'COUNTS'],
    rows,
  );
}

/** A node of `trace`: a label, its health, its children. */
export interface TreeNode {
  label: string;
  health: string;
  children: TreeNode[];
}

/** The tree drawn with box characters, each node as `label  [health]`. */
export function renderTree(root: TreeNode): string {
  const lines: string[] = [`${root.label}  [${root.health}]`];
  const walk = (node: TreeNode, prefix: string) => {
    node.children.forEach((child, index) => {
      const last = index === node.children.length - 1;
      lines.push(
        `${prefix}${last ? '└── ' : '├── '}${child.label}${child.health === '' ? '' : `  [${child.health}]`}`,
      );
      walk(child, prefix + (last ? '    ' : '│   '));
    });
  };
  walk(root, '');
  return lines.join('\n');
}
