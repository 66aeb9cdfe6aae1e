import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFiles } from '../../../operator/commands/validate.ts';

const EXAMPLE = readFileSync(
  join(import.meta.dirname, '../../../examples/http-shipments.yaml'),
  'utf8',
);
const dir = mkdtempSync(join(tmpdir(), 'tributary-validate-'));

/** The report of validating `text` as one file. */
function check(text: string) {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return validateFiles([file]);
}

describe('tributary validate', () => {
  it('counts a valid Integration and exits 0', () => {
    const report = check(EXAMPLE);
    expect(report.out.at(-1)).toBe('1 valid, 0 invalid, 0 skipped');
    expect(report.out[0]).toMatch(/document 1: Integration carrier-shipments: valid/);
    expect(report.exitCode).toBe(0);
  });

  it('reports a YAML syntax error with its line and exits 1', () => {
    const report = check(`${EXAMPLE}---\nkind: Integration\nmetadata:\n  name: [unclosed\n`);
    expect(report.err.join('\n')).toMatch(/:\d+: YAML syntax error/);
    const line = /:(\d+): YAML syntax error/.exec(report.err.join('\n'))?.[1];
    expect(Number(line)).toBeGreaterThan(EXAMPLE.split('\n').length);
    expect(report.invalid).toBe(1);
    expect(report.exitCode).toBe(1);
  });

  it('names skipped documents and why; an unknown kind fails, a missing kind does not', () => {
    const missing = check(`${EXAMPLE}---\napiVersion: v1\nmetadata: {name: x}\n---\n- a list\n`);
    expect(missing.err).toEqual([
      expect.stringMatching(/document 2: skipped: missing kind/),
      expect.stringMatching(/document 3: skipped: not an object/),
    ]);
    expect(missing.out.at(-1)).toBe('1 valid, 0 invalid, 2 skipped');
    expect(missing.exitCode).toBe(0);
    const unknown = check(`${EXAMPLE}---\nkind: Integraton\nmetadata: {name: x}\n`);
    expect(unknown.err[0]).toMatch(/document 2: skipped: unknown kind "Integraton"/);
    expect(unknown.exitCode).toBe(1);
  });

  it('fails an invalid document, naming the field', () => {
    const report = check(EXAMPLE.replace('interval: 10m', 'interval: often'));
    expect(report.invalid).toBe(1);
    expect(report.err.join('\n')).toMatch(/interval/);
    expect(report.out.at(-1)).toBe('0 valid, 1 invalid, 0 skipped');
    expect(report.exitCode).toBe(1);
  });

  it('fails a file with no documents, an unreadable file and no files', () => {
    expect(check('# only a comment\n')).toMatchObject({
      exitCode: 1,
      err: [expect.stringMatching(/no YAML documents/)],
    });
    expect(validateFiles([join(dir, 'absent.yaml')])).toMatchObject({
      exitCode: 1,
      err: [expect.stringMatching(/cannot read/)],
    });
    expect(validateFiles([]).exitCode).toBe(1);
  });
});
