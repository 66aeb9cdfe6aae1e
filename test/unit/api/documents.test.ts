import { describe, expect, it } from 'vitest';
import { RESULT_VERSION, parseRunResult } from '../../../operator/api/result.ts';
import { RUN_VERSION, parseRunInput } from '../../../operator/api/run-input.ts';

const result = (body: Record<string, unknown>) =>
  JSON.stringify({ version: RESULT_VERSION, outcome: 'Succeeded', ...body });

describe('parseRunResult', () => {
  it.each([
    ['undefined', undefined, { code: 'Missing' }],
    ['blank', '  \n', { code: 'Missing' }],
    ['cut short', '{"version":', { code: 'NotJSON', detail: expect.any(String) as string }],
  ])('calls a %s message what it is', (_name, message, problem) => {
    expect(parseRunResult(message)).toEqual({ ok: false, problem });
  });

  it.each([
    ['a missing field', JSON.stringify({ version: RESULT_VERSION }), /^outcome: /],
    [
      'a field of a list item, with its index',
      result({ quarantine: { count: 1, samples: [{ id: 7, reason: 'x' }] } }),
      /^quarantine\.samples\[0\]\.id: /,
    ],
    ['a wrong root', '[]', /^\(root\): /],
  ])('names %s in the detail', (_name, message, detail) => {
    const parsed = parseRunResult(message);
    if (parsed.ok) throw new Error('expected a problem');
    expect(parsed.problem.code).toBe('Invalid');
    expect(parsed.problem.code === 'Invalid' && parsed.problem.detail).toMatch(detail);
  });

  it('names at most three problems', () => {
    const parsed = parseRunResult(
      JSON.stringify({ version: 'v0', outcome: 'Maybe', stats: 1, checkpoint: 2, drift: 3 }),
    );
    if (parsed.ok) throw new Error('expected a problem');
    expect(parsed.problem.code === 'Invalid' && parsed.problem.detail.split('; ')).toHaveLength(3);
  });

  it('reads a valid result', () => {
    expect(parseRunResult(result({ checkpoint: 'c' }))).toMatchObject({
      ok: true,
      result: { outcome: 'Succeeded', checkpoint: 'c' },
    });
  });
});

describe('parseRunInput', () => {
  it('names an unknown field of a strict part by its own path', () => {
    const parsed = parseRunInput(
      JSON.stringify({
        version: RUN_VERSION,
        kind: 'sync',
        attempt: 1,
        dueTime: '2026-01-05T10:00:00Z',
        integration: { namespace: 'ns', name: 'n', uid: 'u' },
        source: { provider: 'stripe', resource: 'customers', colour: 'blue' },
        policy: {},
      }),
    );
    if (parsed.ok) throw new Error('expected a problem');
    expect(parsed.problem).toMatchObject({ code: 'Invalid' });
    expect(parsed.problem.code === 'Invalid' && parsed.problem.detail).toContain(
      'source.colour: unknown field',
    );
  });

  it('calls an absent TRIBUTARY_RUN missing', () => {
    expect(parseRunInput(undefined)).toEqual({ ok: false, problem: { code: 'Missing' } });
  });
});
