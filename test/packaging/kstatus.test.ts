/**
 * What kstatus (sigs.k8s.io/cli-utils, the library behind Flux's health checks and
 * `kubectl`-style waiters) makes of an Integration in each state of the Argo CD health fixtures.
 * kstatus (v0.37.2) reads metadata.deletionTimestamp, then observedGeneration against
 * generation, then the first of Reconciling=True / Stalled=True in list order, and only then
 * Ready: True is Current, False or Unknown InProgress (never Failed). No conditions: Current.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { runTool } from '../tools/tools.ts';

const TESTDATA = fileURLToPath(
  new URL('../../deploy/argocd/tributary.dev/Integration/testdata/', import.meta.url),
);

type KstatusStatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating' | 'NotFound' | 'Unknown';

/** The kstatus verdict expected for each fixture, and why kstatus reaches it. */
const EXPECTED: Record<string, { status: KstatusStatus; why: string }> = {
  'progressing-new.yaml': {
    status: 'Current',
    why: 'no observedGeneration and no conditions yet: kstatus calls such a custom resource Current',
  },
  'progressing-first-run.yaml': { status: 'InProgress', why: 'Reconciling=True (Progressing)' },
  'progressing-retry-scheduled.yaml': {
    status: 'InProgress',
    why: 'Reconciling=True (RetryScheduled)',
  },
  'progressing-generation-ahead.yaml': {
    status: 'InProgress',
    why: 'status.observedGeneration 1 differs from metadata.generation 2',
  },
  'healthy.yaml': { status: 'Current', why: 'Ready=True, no Reconciling or Stalled' },
  'healthy-syncing.yaml': {
    status: 'Current',
    why: 'Ready=True: a routine sync of fresh data sets no Reconciling (status.activeRun shows it)',
  },
  'healthy-retrying.yaml': {
    status: 'Current',
    why: 'Ready=True: a failed attempt retried while the data is fresh is a blip, Synced=False',
  },
  'degraded-image-pull-failed.yaml': { status: 'Failed', why: 'Stalled=True (ImagePullFailed)' },
  'healthy-partially-succeeded.yaml': { status: 'Current', why: 'Ready=True (PartiallySucceeded)' },
  'healthy-deprecated.yaml': { status: 'Current', why: 'Ready=True; kstatus ignores Deprecated' },
  'degraded-authentication-failed.yaml': { status: 'Failed', why: 'Stalled=True' },
  'degraded-secret-not-found.yaml': { status: 'Failed', why: 'Stalled=True' },
  'degraded-invalid-spec.yaml': { status: 'Failed', why: 'Stalled=True' },
  'degraded-invalid-policy.yaml': { status: 'Failed', why: 'Stalled=True' },
  'degraded-pod-cannot-start.yaml': {
    status: 'Failed',
    why: 'Stalled=True; Reconciling is absent while Stalled, though the Job is still active',
  },
  'degraded-retries-exhausted.yaml': { status: 'Failed', why: 'Stalled=True (RetriesExhausted)' },
  'degraded-drifted.yaml': { status: 'InProgress', why: 'Ready=False is InProgress, never Failed' },
  'degraded-drifted-syncing.yaml': { status: 'InProgress', why: 'Reconciling=True (a sync runs)' },
  'degraded-stale.yaml': { status: 'InProgress', why: 'Ready=False (MaxAgeExceeded)' },
  'degraded-stale-retrying.yaml': {
    status: 'InProgress',
    why: 'Reconciling=True (RetryScheduled)',
  },
  'degraded-quarantine-exceeded.yaml': {
    status: 'InProgress',
    why: 'Ready=False (QuarantineExceeded)',
  },
  'suspended.yaml': { status: 'Current', why: 'Ready=True; kstatus ignores Suspended' },
  'suspended-before-first-run.yaml': {
    status: 'InProgress',
    why: 'no Reconciling while suspended, but Ready=False (AwaitingFirstRun) reads as InProgress',
  },
  'terminating.yaml': { status: 'Terminating', why: 'metadata.deletionTimestamp is set' },
};

const fixtures = readdirSync(TESTDATA)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

describe('kstatus on Integrations', () => {
  const verdicts = new Map<string, { status: string; message: string }>();

  beforeAll(() => {
    const objects = fixtures.map(
      (file) => parse(readFileSync(`${TESTDATA}${file}`, 'utf8')) as unknown,
    );
    const run = runTool('kstatus', [], JSON.stringify(objects));
    if (run.code !== 0) throw new Error(`kstatus failed: ${run.stderr}`);
    const results = JSON.parse(run.stdout) as { status: string; message: string }[];
    expect(results).toHaveLength(fixtures.length);
    fixtures.forEach((file, index) => {
      const result = results[index];
      if (result !== undefined) verdicts.set(file, result);
    });
  });

  test('the table names every fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtures);
  });

  test.each(fixtures)('%s', (file) => {
    const expected = EXPECTED[file];
    expect(verdicts.get(file)?.status, expected?.why).toBe(expected?.status);
  });
});
