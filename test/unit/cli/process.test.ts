/**
 * The real `tributary` process: a command line that cannot be run exits 2 before it connects
 * to anything, and says which flag is wrong.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', '..', 'operator', 'cli.ts');

/** Runs `node operator/cli.ts <args>` with only `env` (and PATH), no kubeconfig. */
function tributary(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', KUBECONFIG: '/nonexistent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

// Each case starts a Node process; on a loaded machine the first takes seconds.
describe('the tributary process', { timeout: 30_000 }, () => {
  it.each<[string[], Record<string, string>, string]>([
    [['operator', '--workers', '0'], {}, '--workers'],
    [['operator', '--workers', 'abc'], {}, '--workers'],
    [['operator'], { WORKERS: '-1' }, 'WORKERS (--workers)'],
    [['operator', '--no-such-flag'], {}, '--no-such-flag'],
    [['operator', '--metrics-port', 'http'], {}, '--metrics-port'],
    [['sync', '--dryrun'], {}, '--dryrun'],
  ])('exits 2 for %j %j, naming %s', (args, env, flag) => {
    const run = tributary(args, env);
    expect(run.stderr).toContain(flag);
    expect(run.stderr).toContain('tributary --help');
    expect(run.code).toBe(2);
  });

  it('exits 2 for an unknown command', () => {
    const run = tributary(['operate']);
    expect(run.stderr).toContain("unknown command 'operate'");
    expect(run.code).toBe(2);
  });

  it('exits 0 for --help', () => {
    const run = tributary(['--help']);
    expect(run.stdout).toContain('--workers N');
    expect(run.code).toBe(0);
  });
});
