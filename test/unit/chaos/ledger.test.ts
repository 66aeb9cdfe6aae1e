import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createdJobs } from '../../chaos/support/ledger.ts';

/** One audit event: a Job create answered 201. */
function created(namespace: string, name: string): string {
  const event = {
    stage: 'ResponseComplete',
    verb: 'create',
    objectRef: { resource: 'jobs', namespace },
    responseStatus: { code: 201 },
    responseObject: { metadata: { name, labels: {}, annotations: {} } },
    stageTimestamp: '2026-12-02T10:00:00.000000Z',
    user: { username: 'system:serviceaccount:tributary-system:tributary-operator' },
    userAgent: 'tributary-operator (a) — ünïcode',
  };
  return `${JSON.stringify(event)}\n`;
}

describe('createdJobs (the audit-log ledger)', () => {
  it('reads only what was appended, and a line being written only once it is whole', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-')), 'audit.log');
    writeFileSync(path, created('a', 'j1') + JSON.stringify({ stage: 'RequestReceived' }) + '\n');
    expect(createdJobs(path).map((j) => j.name)).toEqual(['j1']);
    const next = Buffer.from(created('b', 'j2'));
    const cut = next.indexOf('ü') + 1; // inside the two bytes of ü
    appendFileSync(path, next.subarray(0, cut));
    expect(createdJobs(path).map((j) => j.name)).toEqual(['j1']);
    appendFileSync(path, next.subarray(cut));
    expect(createdJobs(path).map((j) => j.name)).toEqual(['j1', 'j2']);
    expect(createdJobs(path, ['b']).map((j) => j.userAgent)).toEqual([
      'tributary-operator (a) — ünïcode',
    ]);
  });

  it('starts over when the log is replaced by a shorter one', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-')), 'audit.log');
    writeFileSync(path, created('a', 'j1') + created('a', 'j2'));
    expect(createdJobs(path)).toHaveLength(2);
    writeFileSync(path, created('a', 'j3'));
    expect(createdJobs(path).map((j) => j.name)).toEqual(['j3']);
  });
});
