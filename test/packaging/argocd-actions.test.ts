/**
 * The Argo CD resource actions of an Integration (deploy/argocd/tributary.dev/Integration/
 * actions), run by Lua 5.1 with only the libraries Argo CD opens, against every case of their
 * action_test.yaml, in the format of Argo CD's own resource_customizations action tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { SYNC_REQUESTED_ANNOTATION, validateIntegration } from '../../operator/api/index.ts';
import { runTool } from '../tools/tools.ts';
import { toLua } from './argocd/lua.ts';

const ACTIONS_DIR = fileURLToPath(
  new URL('../../deploy/argocd/tributary.dev/Integration/actions/', import.meta.url),
);
const HARNESS = fileURLToPath(new URL('argocd/harness.lua', import.meta.url));
const TIME = '<time>';

interface ActionTests {
  discoveryTests: { inputPath: string; result: { name: string; disabled: boolean }[] }[];
  actionTests: { action: string; inputPath: string; expectedOutputPath: string }[];
}

const tests = parse(readFileSync(`${ACTIONS_DIR}action_test.yaml`, 'utf8')) as ActionTests;

interface Obj {
  metadata: { annotations?: Record<string, string> };
  spec: { suspend?: boolean };
}

function readObject(path: string): Obj {
  return parse(readFileSync(`${ACTIONS_DIR}${path}`, 'utf8')) as Obj;
}

/** Runs one script (discovery.lua or an action.lua) on `object` as Argo CD would. */
function run(script: string, object: unknown): unknown {
  const result = runTool(
    'lua',
    [HARNESS, `${ACTIONS_DIR}${script}`, 'json'],
    `return ${toLua(object)}`,
  );
  if (result.code !== 0) throw new Error(`${script} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe('Argo CD resource actions of an Integration', () => {
  test.each(tests.discoveryTests.map((t) => [t.inputPath, t] as const))(
    'discovery on %s',
    (_path, t) => {
      const actions = run('discovery.lua', readObject(t.inputPath)) as Record<
        string,
        { disabled: boolean; iconClass: string }
      >;
      const offered = Object.entries(actions)
        .map(([name, action]) => ({ name, disabled: action.disabled }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(offered).toEqual(t.result);
    },
  );

  test.each(tests.actionTests.map((t) => [t.action, t.inputPath, t] as const))(
    '%s on %s',
    (_action, _path, t) => {
      const before = Date.now();
      const output = run(`${t.action}/action.lua`, readObject(t.inputPath)) as Obj;
      const expected = readObject(t.expectedOutputPath);
      const requested = output.metadata.annotations?.[SYNC_REQUESTED_ANNOTATION];
      if (expected.metadata.annotations?.[SYNC_REQUESTED_ANNOTATION] === TIME) {
        expect(requested).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        const at = Date.parse(requested ?? '');
        expect(at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
        expect(at).toBeLessThanOrEqual(Date.now());
        expected.metadata.annotations[SYNC_REQUESTED_ANNOTATION] = requested ?? '';
      }
      expect(output).toEqual(expected);
      expect(validateIntegration(output).ok).toBe(true);
    },
  );

  test('every action has a test and is offered by discovery.lua', () => {
    const dirs = readdirSync(ACTIONS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'testdata')
      .map((entry) => entry.name)
      .sort();
    expect(dirs).toEqual(['resume', 'suspend', 'sync-now']);
    expect(new Set(tests.actionTests.map((t) => t.action))).toEqual(new Set(dirs));
    expect(
      Object.keys(run('discovery.lua', readObject('testdata/integration.yaml')) as object).sort(),
    ).toEqual(dirs);
  });
});
