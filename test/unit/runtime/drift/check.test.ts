import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EXIT_NOT_RETRYABLE,
  parseRunResult,
  resolvePolicy,
  type RunResult,
} from '../../../../operator/api/index.ts';
import { RunEnv, type RunInput } from '../../../../operator/api/run-input.ts';
import { idempotencyKey } from '../../../../operator/runtime/destination.ts';
import { runDriftCheck, type DriftOptions } from '../../../../operator/runtime/drift/check.ts';
import { repairVersion } from '../../../../operator/runtime/drift/destination.ts';
import { exitCodeOf } from '../../../../operator/runtime/result.ts';
import { runJobAsync } from '../../../../operator/runtime/run.ts';
import { runSync } from '../../../../operator/runtime/sync.ts';
import { startSimulators, type RunningSimulators } from '../../../../dev/simulators/index.ts';
import { instantClock, runInput, silentLog } from '../support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A generic source and a destination simulator, the destination filled by one real sync. */
async function synced(records: number): Promise<RunningSimulators> {
  const sims = await startSimulators({ seed: 5, records, generic: true, destination: true });
  cleanups.push(() => sims.stop());
  const result = await runSync({
    input: input(sims, 'sync'),
    credentials: { source: 'generic-token' },
    resultPath: join(tempDir('tributary-drift-sync-'), 'result'),
    log: silentLog(),
    clock: instantClock(),
    pageSize: 25,
  });
  expect(result.stats).toMatchObject({ read: records, written: records });
  return sims;
}

function input(
  sims: RunningSimulators,
  kind: RunInput['kind'],
  mode: 'Report' | 'Repair' = 'Report',
  withSchema = true,
): RunInput {
  const described = sims.describe();
  const destination = described.destination?.url ?? '';
  return runInput({
    kind,
    dueTime: '2025-01-01T06:00:00Z',
    source: {
      provider: 'http',
      baseURL: described.generic?.url,
      credentialsRef: { name: 'source', key: 'token' },
      http: {
        path: '/v1/items',
        recordsPath: 'data',
        pagination: { type: 'cursor', cursorPath: 'next_cursor' },
        updatedField: 'updated_at',
        auth: { type: 'bearer' },
      },
    },
    destination: {
      url: `${destination}/items/{id}`,
      list: {
        url: `${destination}/items`,
        recordsPath: 'items',
        pagination: { type: 'cursor', cursorPath: 'next_cursor', pageSize: 30 },
      },
    },
    ...(withSchema
      ? {
          schema: {
            required: ['id', 'email'],
            properties: {
              id: { type: 'string' },
              email: { type: 'string' },
              name: { type: 'string' },
              updated_at: { type: 'string' },
            },
          },
        }
      : {}),
    policy: resolvePolicy({ drift: { mode } }, undefined),
  });
}

function options(
  sims: RunningSimulators,
  mode: 'Report' | 'Repair',
  extra: Partial<DriftOptions> = {},
): DriftOptions {
  return {
    input: input(sims, 'drift-check', mode),
    credentials: { source: 'generic-token' },
    resultPath: join(tempDir('tributary-drift-result-'), 'result'),
    log: silentLog(),
    clock: instantClock(),
    random: () => 0,
    pageSize: 20,
    ...extra,
  };
}

function readResult(path: string): RunResult {
  const parsed = parseRunResult(readFileSync(path, 'utf8'));
  if (!parsed.ok) throw new Error(`result file: ${JSON.stringify(parsed.problem)}`);
  return parsed.result;
}

const id = (index: number) => `item_${String(index).padStart(8, '0')}`;
const writes = (sims: RunningSimulators) => sims.destination?.stats().destination.writesReceived;

/** Deletes 3, alters 2 (contracted field) and 1 (uncontracted), adds 2 extra records. */
function drift(sims: RunningSimulators): void {
  const destination = sims.destination;
  if (!destination) throw new Error('no destination');
  for (const index of [3, 17, 40]) destination.remove('items', id(index));
  destination.alter('items', id(8), { email: 'changed@example.test' });
  destination.alter('items', id(21), { name: 'Someone Else' });
  destination.alter('items', id(30), { notes: 'not contracted' });
  destination.insert('items', 'item_extra_1', { email: 'x1@example.test' });
  destination.insert('items', 'item_extra_0', { email: 'x0@example.test' });
}

const expectedDrift = {
  missing: 3,
  unexpected: 2,
  mismatched: 2,
  samples: {
    missing: [id(3), id(17), id(40)],
    unexpected: ['item_extra_0', 'item_extra_1'],
    mismatched: [id(8), id(21)],
  },
};

describe('runDriftCheck', () => {
  it('Report finds deleted, altered and extra records exactly, and never writes', async () => {
    const sims = await synced(50);
    drift(sims);
    sims.destination?.reset({ keepData: true });
    const opts = options(sims, 'Report');
    const result = await runDriftCheck(opts);
    expect(result).toEqual({
      outcome: 'Succeeded',
      stats: { read: 50, written: 0, unchanged: 0, quarantined: 0, failed: 0 },
      drift: expectedDrift,
    });
    expect(readResult(opts.resultPath)).toMatchObject({
      outcome: 'Succeeded',
      drift: expectedDrift,
    });
    expect(exitCodeOf(result)).toBe(0);
    expect(writes(sims)).toBe(0);
    const methods = (sims.destination?.requests() ?? []).map((r) => r.method);
    expect(new Set(methods)).toEqual(new Set(['GET']));
  });

  it('Repair re-applies missing and altered records, keeps extra ones, and a second check is clean', async () => {
    const sims = await synced(50);
    drift(sims);
    const source = sims.generic?.dataset('items');
    const repaired = await runDriftCheck(options(sims, 'Repair'));
    expect(repaired).toMatchObject({
      outcome: 'Succeeded',
      stats: { read: 50, written: 5, unchanged: 0, quarantined: 0 },
      drift: { ...expectedDrift, repaired: 5 },
    });
    for (const index of [3, 8, 17, 21, 40]) {
      expect(sims.destination?.get('items', id(index))).toEqual(source?.record(index));
    }
    expect(sims.destination?.get('items', 'item_extra_0')).toBeDefined();
    const restored = source?.record(3) ?? {};
    const version = repairVersion(restored, 'updated_at', '2025-01-01T06:00:00Z', undefined);
    expect(sims.destination?.keyRecord(idempotencyKey('uid-1', id(3), version))).toMatchObject({
      id: id(3),
      applied: 1,
    });
    expect(sims.destination?.appliesFor('items', id(8))).toBe(2);

    const before = writes(sims);
    const again = await runDriftCheck(options(sims, 'Repair'));
    expect(again.drift).toEqual({
      missing: 0,
      unexpected: 2,
      mismatched: 0,
      repaired: 0,
      samples: { unexpected: ['item_extra_0', 'item_extra_1'] },
    });
    expect(writes(sims)).toBe(before);
  });

  it('keeps memory bounded: tiny spill budget and fan-in give the same exact result, temp files removed', async () => {
    const sims = await synced(120);
    drift(sims);
    const tmp = tempDir('tributary-drift-spill-');
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const result = await runDriftCheck(
      options(sims, 'Repair', { tmpDir: tmp, spillRecords: 7, maxFanIn: 3, log }),
    );
    expect(result.drift).toEqual({ ...expectedDrift, repaired: 5 });
    const read = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'both sides read and sorted; comparing');
    expect(read).toMatchObject({ sourceRead: 120, destinationRead: 119 });
    // 18 + 17 runs of 7 entries, then merge passes of 3 runs at most.
    expect(read?.spillFiles).toBeGreaterThan(18 + 17);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('without a schema compares every field but the volatile ones', async () => {
    const sims = await synced(10);
    sims.destination?.alter('items', id(1), { _rev: '2-abc', synced_at: '2025-01-01T00:00:00Z' });
    sims.destination?.alter('items', id(2), { balance: -1 });
    const opts = options(sims, 'Report');
    const result = await runDriftCheck({
      ...opts,
      input: input(sims, 'drift-check', 'Report', false),
    });
    expect(result.drift).toEqual({
      missing: 0,
      unexpected: 0,
      mismatched: 1,
      samples: { mismatched: [id(2)] },
    });
  });

  it('fails classified: a refused destination is Authentication, no destination.list is Configuration', async () => {
    const sims = await startSimulators({
      seed: 5,
      records: 5,
      generic: true,
      destination: { token: 'dst' },
    });
    cleanups.push(() => sims.stop());
    const refused = await runDriftCheck(options(sims, 'Report'));
    expect(refused).toMatchObject({
      outcome: 'Failed',
      error: { class: 'Authentication', retryable: false },
    });
    expect(refused.drift).toBeUndefined();
    expect(exitCodeOf(refused)).toBe(EXIT_NOT_RETRYABLE);

    const opts = options(sims, 'Report');
    const destination = { url: opts.input.destination?.url ?? '' };
    const unlisted = await runDriftCheck({ ...opts, input: { ...opts.input, destination } });
    expect(unlisted.error).toEqual({
      class: 'Configuration',
      message: 'a drift check needs spec.destination.list',
      retryable: false,
    });
    expect(readResult(opts.resultPath).outcome).toBe('Failed');
  });

  it('runs as `tributary drift-check` through runJobAsync, with the exit code of a sync', async () => {
    const sims = await synced(50);
    drift(sims);
    const path = join(tempDir('tributary-drift-job-'), 'result');
    const code = await runJobAsync({
      kind: 'drift-check',
      dry: false,
      log: silentLog(),
      signal: new AbortController().signal,
      env: {
        [RunEnv.Run]: JSON.stringify(input(sims, 'drift-check')),
        [RunEnv.ResultPath]: path,
        [RunEnv.SourceCredentials]: 'generic-token',
      },
    });
    expect(code).toBe(0);
    expect(readResult(path).drift).toEqual(expectedDrift);
  });
});
