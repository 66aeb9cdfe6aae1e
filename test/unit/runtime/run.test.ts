import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EXIT_NOT_RETRYABLE,
  EXIT_RETRYABLE,
  parseRunResult,
  type RunResult,
} from '../../../operator/api/index.ts';
import { RunEnv } from '../../../operator/api/run-input.ts';
import { replaceResultFile } from '../../../operator/runtime/result.ts';
import { runJobAsync } from '../../../operator/runtime/run.ts';
import { runInput, sendJSON, silentLog, startServer, type TestServer } from './support.ts';
import { captureLogger } from '../controller/machinery/support.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function resultPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'tributary-run-')), 'termination-log');
}

function readResult(path: string): RunResult {
  const parsed = parseRunResult(readFileSync(path, 'utf8'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem));
  return parsed.result;
}

/** A source of `n` Stripe customers (one page) and a destination; env for a sync against them. */
async function environment(n: number, onWrite: () => void = () => undefined) {
  const src: TestServer = await startServer((_req, res) => {
    const data = Array.from({ length: n }, (_, i) => ({ id: `cus_${i + 1}` }));
    sendJSON(res, { data, has_more: false });
  });
  const dst: TestServer = await startServer((_req, res) => {
    onWrite();
    sendJSON(res, {});
  });
  cleanups.push(
    () => src.close(),
    () => dst.close(),
  );
  const path = resultPath();
  const input = runInput({
    source: {
      provider: 'stripe',
      baseURL: src.url,
      resource: 'customers',
      credentialsRef: { name: 's', key: 'k' },
    },
    destination: { url: `${dst.url}/c/{id}` },
  });
  const env = {
    [RunEnv.Run]: JSON.stringify(input),
    [RunEnv.ResultPath]: path,
    [RunEnv.SourceCredentials]: 'sk_test_x',
  };
  return { src, dst, path, env };
}

describe('runJobAsync', () => {
  it('logs with the run keys the operator logs: namespace, integration, uid, job, kind, attempt, dueTime', async () => {
    const { path, env } = await environment(2);
    const input = JSON.parse(env[RunEnv.Run]) as {
      integration: { namespace: string; name: string; uid: string };
      attempt: number;
      dueTime: string;
    };
    const { log, lines } = captureLogger();
    const job = 'stripe-customers-s-1767607200-1';
    const code = await runJobAsync({
      kind: 'sync',
      dry: false,
      env: { ...env, [RunEnv.JobName]: job },
      log,
    });
    expect(code).toBe(0);
    expect(readResult(path).outcome).toBe('Succeeded');
    expect(lines().length).toBeGreaterThan(0);
    for (const line of lines()) {
      expect(line).toMatchObject({
        namespace: input.integration.namespace,
        integration: input.integration.name,
        uid: input.integration.uid,
        job,
        kind: 'sync',
        attempt: input.attempt,
        dueTime: new Date(input.dueTime).toISOString().replace(/\.000Z$/, 'Z'),
      });
      expect(typeof line.level).toBe('string');
    }
  });

  it('runs a sync from the environment and exits 0', async () => {
    const { dst, path, env } = await environment(3);
    const code = await runJobAsync({ kind: 'sync', dry: false, env, log: silentLog() });
    expect(code).toBe(0);
    expect(dst.requests).toHaveLength(3);
    expect(readResult(path)).toMatchObject({
      outcome: 'Succeeded',
      stats: { read: 3, written: 3 },
    });
  });

  it('on SIGTERM starts nothing new and exits retryable', async () => {
    const listeners = process.listenerCount('SIGTERM');
    const { dst, path, env } = await environment(20, () => {
      process.emit('SIGTERM', 'SIGTERM');
    });
    const code = await runJobAsync({
      kind: 'sync',
      dry: false,
      env,
      log: silentLog(),
      sync: { concurrency: 1 },
    });
    expect(code).toBe(EXIT_RETRYABLE);
    expect(dst.requests.length).toBeLessThan(20);
    expect(readResult(path)).toMatchObject({
      outcome: 'Failed',
      error: { class: 'Internal', retryable: true },
    });
    expect(process.listenerCount('SIGTERM')).toBe(listeners);
  });

  it('refuses a drift-check process handed a sync run input, without touching the source', async () => {
    const { src, path, env } = await environment(1);
    const code = await runJobAsync({ kind: 'drift-check', dry: false, env, log: silentLog() });
    expect(code).toBe(EXIT_NOT_RETRYABLE);
    expect(src.requests).toHaveLength(0);
    expect(readResult(path).error).toMatchObject({ class: 'Configuration', retryable: false });
    expect(readResult(path).error?.message).toMatch(/is not a drift-check/);
  });

  it('a missing TRIBUTARY_RUN is a Configuration error', async () => {
    const path = resultPath();
    const code = await runJobAsync({
      kind: 'sync',
      dry: false,
      env: { [RunEnv.ResultPath]: path },
    });
    expect(code).toBe(EXIT_NOT_RETRYABLE);
    expect(readResult(path).error?.message).toBe('TRIBUTARY_RUN is missing');
  });

  it('--dry touches nothing and keeps the checkpoint', async () => {
    const { src, path, env } = await environment(1);
    const input = JSON.parse(env[RunEnv.Run]) as Record<string, unknown>;
    const dryEnv = { ...env, [RunEnv.Run]: JSON.stringify({ ...input, checkpoint: '{"v":1}' }) };
    expect(await runJobAsync({ kind: 'sync', dry: true, env: dryEnv })).toBe(0);
    expect(src.requests).toHaveLength(0);
    expect(readResult(path)).toMatchObject({ outcome: 'Succeeded', checkpoint: '{"v":1}' });
  });
});

describe('replaceResultFile', () => {
  it('replaces the file by rename, leaving no temp file', () => {
    const path = resultPath();
    replaceResultFile(path, { outcome: 'Succeeded' });
    replaceResultFile(path, {
      outcome: 'Failed',
      error: { class: 'Network', message: 'x', retryable: true },
    });
    expect(readResult(path).outcome).toBe('Failed');
    expect(readdirSync(dirname(path))).toEqual([basename(path)]);
  });

  it('overwrites in place, padded to stay valid, when a rename is impossible', () => {
    const path = resultPath();
    writeFileSync(path, JSON.stringify({ long: 'x'.repeat(500) }));
    // A directory where the temp file would go makes the rename path fail.
    mkdirSync(join(dirname(path), `.${basename(path)}.${String(process.pid)}.tmp`));
    replaceResultFile(path, { outcome: 'Succeeded' });
    const text = readFileSync(path, 'utf8');
    expect(text.length).toBeGreaterThan(500);
    expect(readResult(path)).toEqual({ version: 'tributary.dev/result/v1', outcome: 'Succeeded' });
  });
});
