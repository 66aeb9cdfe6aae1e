import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../../../operator/api/index.ts';
import {
  summarize,
  type ObservedSummary,
} from '../../../../operator/controller/integration/summary.ts';

const now = new Date('2026-01-05T10:05:00Z');
const policy = resolvePolicy(undefined, { sync: { interval: '15m', jitter: '0%' } });
const lastSync: NonNullable<ObservedSummary['status']['lastSync']> = {
  jobName: 'stripe-s-1-1',
  kind: 'sync',
  attempt: 1,
  completionTime: '2026-01-05T10:01:00Z',
  outcome: 'Succeeded',
};

/** The SchemaChanged and Ready conditions of a settled Integration with this status. */
function conditions(status: ObservedSummary['status']) {
  const { conditions } = summarize({
    previous: undefined,
    context: { generation: 1, now },
    causes: [],
    observed: { createdAt: new Date('2026-01-05T10:00:00Z'), suspended: false, policy, status },
  });
  return {
    schemaChanged: conditions.find((c) => c.type === 'SchemaChanged'),
    ready: conditions.find((c) => c.type === 'Ready'),
  };
}

const synced = { lastSync, lastSuccessfulSyncTime: '2026-01-05T10:01:00Z' };

describe('SchemaChanged', () => {
  it.each<[string, ObservedSummary['status'], string, string, RegExp]>([
    ['before the first sync', {}, 'False', 'NoSchemaChanges', /^no sync has finished yet$/],
    ['a sync that saw no change', synced, 'False', 'NoSchemaChanges', /saw no field added/],
    [
      'empty lists',
      { ...synced, schemaChanges: { added: [], removed: [] } },
      'False',
      'NoSchemaChanges',
      /saw no field added/,
    ],
    [
      'a removed nested field',
      { ...synced, schemaChanges: { removed: ['billing.address.city'] } },
      'True',
      'SchemaChangesDetected',
      /^live records differ from spec\.schema: removed billing\.address\.city; update spec\.schema\.properties/,
    ],
    [
      'added and removed fields',
      { ...synced, schemaChanges: { added: ['lines[].qty', 'vip'], removed: ['phone'] } },
      'True',
      'SchemaChangesDetected',
      /: added lines\[\]\.qty, vip; removed phone; /,
    ],
    [
      'truncated lists',
      { ...synced, schemaChanges: { added: ['a'], truncated: true } },
      'True',
      'SchemaChangesDetected',
      /: added a \(and more\); /,
    ],
  ])('%s', (_, status, expected, reason, message) => {
    const { schemaChanged } = conditions(status);
    expect(schemaChanged).toMatchObject({ status: expected, reason, observedGeneration: 1 });
    expect(schemaChanged?.message).toMatch(message);
  });

  it('does not affect Ready', () => {
    const changed = conditions({ ...synced, schemaChanges: { removed: ['billing.address.city'] } });
    expect(changed.schemaChanged?.status).toBe('True');
    expect(changed.ready).toEqual(conditions(synced).ready);
    expect(changed.ready?.status).toBe('True');
  });
});
