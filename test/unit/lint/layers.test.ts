/**
 * The layer rule fires: the project's own ESLint configuration, run on source text placed at real
 * paths of the tree, reports a forbidden import and stays quiet on an allowed one.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { areaOf, forbidden } from '../../../eslint/layers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('areaOf', () => {
  it.each([
    ['operator/api/result.ts', 'operator/api'],
    ['operator/lib/clock.ts', 'operator/lib'],
    ['operator/controller/integration/plan.ts', 'operator/controller'],
    ['operator/runtime/drift/check.ts', 'operator/runtime'],
    ['operator/cli.ts', 'operator/cli.ts'],
    ['test/e2e/sync.test.ts', 'test/e2e'],
    ['test/support/cluster.ts', 'test/support'],
    ['test/unit/lib/key.test.ts', 'test'],
    ['dev/cluster/cluster.ts', 'dev'],
    ['README.md', undefined],
  ])('%s is in %s', (path, area) => {
    expect(areaOf(path)).toBe(area);
  });
});

describe('forbidden', () => {
  it.each([
    [
      'operator/runtime/sync.ts',
      'operator/controller/machinery/clock.ts',
      'operator/runtime may not import operator/controller',
    ],
    [
      'operator/controller/operator.ts',
      'operator/runtime/run.ts',
      'operator/controller may not import operator/runtime',
    ],
    [
      'operator/lib/clock.ts',
      'operator/controller/plan/job.ts',
      'operator/lib may not import operator/controller',
    ],
    ['operator/api/result.ts', 'operator/lib/time.ts', 'operator/api may not import operator/lib'],
    [
      'operator/controller/operator.ts',
      'test/support/fake-clock.ts',
      'operator/controller may not import test',
    ],
    ['operator/runtime/run.ts', 'dev/cluster/cluster.ts', 'operator/runtime may not import dev'],
    ['scripts/demo.ts', 'test/support/cluster.ts', 'scripts may not import test/support'],
    ['dev/cluster/operator.ts', 'test/fixtures/manifests.ts', 'dev may not import test/fixtures'],
    [
      'test/e2e/sync.test.ts',
      'test/integration/operator.test.ts',
      'test/e2e may not import test/integration',
    ],
  ])('%s may not import %s', (from, to, message) => {
    expect(forbidden(from, to)).toContain(message);
  });

  it.each([
    ['operator/runtime/sync.ts', 'operator/lib/clock.ts'],
    ['operator/controller/operator.ts', 'operator/api/index.ts'],
    ['operator/lib/log.ts', 'operator/lib/key.ts'],
    ['operator/cli.ts', 'operator/runtime/run.ts'],
    ['scripts/demo.ts', 'dev/cluster/cluster.ts'],
    ['test/e2e/sync.test.ts', 'test/support/cluster.ts'],
    ['test/unit/controller/plan/job.test.ts', 'test/support/fake-clock.ts'],
  ])('%s may import %s', (from, to) => {
    expect(forbidden(from, to)).toBeUndefined();
  });
});

describe('the project ESLint configuration', () => {
  let eslint: ESLint;
  beforeAll(async () => {
    eslint = new ESLint({ cwd: ROOT });
    // The first lint builds the type-checked program (several seconds); the tests reuse it.
    await eslint.lintText('export {};\n', { filePath: join(ROOT, 'operator/runtime/run.ts') });
  }, 120_000);

  const lint = async (path: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'tributary/layers');
  };

  it('rejects the runtime importing the controller, naming both layers', async () => {
    const messages = await lint(
      'operator/runtime/run.ts',
      "import { buildJob } from '../controller/plan/job.ts';\nexport const job = buildJob;\n",
    );
    expect(messages.map((m) => m.message)).toEqual([
      expect.stringContaining('operator/runtime may not import operator/controller'),
    ]);
    expect(messages[0]?.severity).toBe(2);
  });

  it('rejects product code importing test code', async () => {
    const messages = await lint(
      'operator/controller/operator.ts',
      "import { FakeClock } from '../../test/support/fake-clock.ts';\nexport const clock = new FakeClock();\n",
    );
    expect(messages).toHaveLength(1);
  });

  it('rejects I/O packages in operator/api', async () => {
    const messages = await lint(
      'operator/api/result.ts',
      "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    );
    expect(messages.map((m) => m.message)).toEqual([expect.stringContaining('has no I/O')]);
  });

  it('accepts an import the layers allow', async () => {
    const messages = await lint(
      'operator/runtime/run.ts',
      "import { systemClock } from '../lib/clock.ts';\nexport const clock = systemClock();\n",
    );
    expect(messages).toEqual([]);
  });
});
