import { describe, expect, it } from 'vitest';
import { MAX_RESULT_BYTES, parseRunResult } from '../../../../operator/api/index.ts';
import { serializeResult, type ResultBody } from '../../../../operator/runtime/result.ts';

const long = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${'x'.repeat(200)}${i}`);

function parsed(text: string) {
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  const result = parseRunResult(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problem));
  return result.result;
}

describe('serializeResult with a webhook gap report', () => {
  it('cuts the missed samples first, keeping the counts and the released ids', () => {
    const released = long('r', 12);
    const body: ResultBody = {
      outcome: 'Succeeded',
      quarantine: { count: 0, released, releasedCount: 12 },
      webhook: { changed: 40, missed: 12, missedSamples: long('m', 10), unavailable: 'x: y' },
    };
    const result = parsed(serializeResult(body));
    expect(result.webhook).toEqual({ changed: 40, missed: 12, unavailable: 'x: y' });
    expect(result.quarantine?.released).toEqual(released);
  });

  it('keeps the samples when everything fits', () => {
    const body: ResultBody = {
      outcome: 'Succeeded',
      webhook: { changed: 2, missed: 1, missedSamples: ['a'] },
    };
    expect(parsed(serializeResult(body)).webhook).toEqual(body.webhook);
  });

  it('keeps the counts even in the last resort', () => {
    const body: ResultBody = {
      outcome: 'Succeeded',
      stats: { read: 1, written: 1, unchanged: 0, quarantined: 0, failed: 0 },
      checkpoint: 'c'.repeat(1024),
      deprecation: { message: 'd'.repeat(1024), sunset: 's'.repeat(64) },
      schemaChanges: { added: long('a', 32).map((n) => n.slice(0, 256)) },
      webhook: {
        changed: 3,
        missed: 3,
        missedSamples: long('m', 10),
        unavailable: 'u'.repeat(512),
      },
    };
    const result = parsed(serializeResult(body));
    expect(result.webhook).toMatchObject({ changed: 3, missed: 3 });
    expect(result.webhook?.missedSamples).toBeUndefined();
  });
});
