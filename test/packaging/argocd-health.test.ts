/**
 * The Argo CD health check of an Integration (deploy/argocd/tributary.dev/Integration), run by
 * Lua 5.1 with only the libraries Argo CD opens, against every case of its health_test.yaml: the
 * same contract Argo CD's own `go test ./util/lua/` applies to resource_customizations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { validateIntegration } from '../../operator/api/index.ts';
import { runTool } from '../tools/tools.ts';
import { toLua } from './argocd/lua.ts';

const CHECK_DIR = fileURLToPath(
  new URL('../../deploy/argocd/tributary.dev/Integration/', import.meta.url),
);
const HEALTH_LUA = `${CHECK_DIR}health.lua`;
const HARNESS = fileURLToPath(new URL('argocd/harness.lua', import.meta.url));

/** One case of health_test.yaml, in Argo CD's format. */
interface HealthTest {
  healthStatus: { status: string; message?: string };
  inputPath: string;
}

const cases = (
  parse(readFileSync(`${CHECK_DIR}health_test.yaml`, 'utf8')) as { tests: HealthTest[] }
).tests;
const fixtures = readdirSync(`${CHECK_DIR}testdata`)
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => `testdata/${file}`)
  .sort();

/**
 * Fixtures that admission accepts but the operator's own validation rejects (the point of the
 * fixture), with the errors it reports; every other fixture is a valid Integration.
 */
const REJECTED_BY_OPERATOR: Record<string, string[]> = {
  'testdata/degraded-invalid-spec.yaml': [
    'spec.overrides.sync.schedule: has a cron field out of range',
  ],
};

function readObject(inputPath: string): unknown {
  return parse(readFileSync(`${CHECK_DIR}${inputPath}`, 'utf8'));
}

/** Runs health.lua on `object` as Argo CD would; returns what it says. */
function health(object: unknown): { status: string; message: string } {
  const run = runTool('lua', [HARNESS, HEALTH_LUA], `return ${toLua(object)}`);
  if (run.code !== 0) throw new Error(`health.lua failed: ${run.stderr}`);
  const newline = run.stdout.indexOf('\n');
  return { status: run.stdout.slice(0, newline), message: run.stdout.slice(newline + 1) };
}

describe('Argo CD health check of an Integration', () => {
  test.each(cases.map((c) => [c.inputPath, c] as const))('%s', (_inputPath, c) => {
    expect(health(readObject(c.inputPath))).toEqual({
      status: c.healthStatus.status,
      message: c.healthStatus.message ?? '',
    });
  });

  test('health_test.yaml has exactly one case per testdata file', () => {
    expect(cases.map((c) => c.inputPath).sort()).toEqual(fixtures);
  });

  test.each(fixtures)('%s is a valid Integration', (inputPath) => {
    const validation = validateIntegration(readObject(inputPath));
    expect(validation.ok ? [] : validation.errors).toEqual(REJECTED_BY_OPERATOR[inputPath] ?? []);
  });

  test('objects reach Lua byte for byte', () => {
    const message = 'Secret "stripe-api"\\key\n\ttab, ✓ é \u0001 [[end]]';
    const object = {
      metadata: { name: 'escapes', generation: 1 },
      spec: {},
      status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', message }] },
    };
    expect(health(object)).toEqual({ status: 'Healthy', message });
  });
});
