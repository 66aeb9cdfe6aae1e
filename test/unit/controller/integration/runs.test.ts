import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { observeRun } from '../../../../operator/controller/integration/runs.ts';
import { POD_START_GRACE_MS } from '../../../../operator/controller/integration/pod-start.ts';
import { rfc3339 } from '../../../../operator/lib/time.ts';
import { resolvePolicy } from '../../../../operator/api/index.ts';
import type { StoredIntegration } from '../../../../operator/controller/integration/plan.ts';
import { buildJob } from '../../../../operator/controller/plan/job.ts';
import {
  baseSpec,
  FakeCluster,
  failed,
  MINUTE,
  NAME,
  NAMESPACE,
  OPERATOR_IMAGE,
  plus,
  result,
  STATS,
  SUCCEEDED,
  syncJob,
  T,
  UID,
  type Ending,
} from './fixtures.ts';

/** When runs are observed: a minute after their Job was created. */
const NOW = plus(T.created, MINUTE);

/** A run Job created at T.created and, unless `ending` is undefined, finished a minute later. */
async function observed(ending: Ending | undefined): Promise<{ job: V1Job; pods: V1Pod[] }> {
  const cluster = new FakeCluster(T.created);
  const integration = {
    metadata: { name: NAME, namespace: NAMESPACE, uid: UID, creationTimestamp: '' },
    spec: baseSpec(),
  } as unknown as StoredIntegration;
  const job = buildJob({
    integration,
    policy: resolvePolicy(undefined, undefined),
    kind: 'sync',
    dueTime: T.created,
    attempt: 1,
    operatorImage: OPERATOR_IMAGE,
  });
  await cluster.createJob(job);
  await cluster.clock.advance(MINUTE);
  const name = syncJob(T.created);
  if (ending !== undefined) cluster.finish(name, ending);
  return { job: cluster.jobsOf(UID)[0] as V1Job, pods: cluster.podsOf(NAMESPACE, name) };
}

describe('observeRun', () => {
  it('reads a running Job as the active attempt of its due run', async () => {
    const { job, pods } = await observed(undefined);
    expect(observeRun(job, pods, NOW)).toEqual({
      jobName: syncJob(T.created),
      kind: 'sync',
      attempt: 1,
      dueTime: T.created,
      createdAt: T.created,
      phase: 'Active',
    });
  });

  it.each<[string, Ending, Record<string, unknown>]>([
    [
      'a success keeps the stats of the result',
      { kind: 'terminated', exitCode: 0, message: SUCCEEDED },
      { outcome: 'Succeeded', stats: STATS },
    ],
    [
      'a partial success is not a failure',
      {
        kind: 'terminated',
        exitCode: 0,
        message: result({ outcome: 'PartiallySucceeded', stats: STATS }),
      },
      { outcome: 'PartiallySucceeded', stats: STATS },
    ],
    [
      'a retryable failure is SyncFailed',
      { kind: 'terminated', exitCode: 75, message: failed('RateLimited') },
      { outcome: 'Failed', reason: 'SyncFailed', error: { class: 'RateLimited', retryable: true } },
    ],
    [
      'refused credentials are AuthenticationFailed',
      { kind: 'terminated', exitCode: 78, message: failed('Authentication', false) },
      {
        outcome: 'Failed',
        reason: 'AuthenticationFailed',
        error: { class: 'Authentication', retryable: false },
      },
    ],
    [
      'an unknown resource is NotFound',
      { kind: 'terminated', exitCode: 78, message: failed('NotFound', false) },
      { outcome: 'Failed', reason: 'NotFound', error: { class: 'NotFound', retryable: false } },
    ],
    [
      'exit 78 without a result is a configuration error, not retried',
      { kind: 'terminated', exitCode: 78 },
      {
        outcome: 'Failed',
        reason: 'ConfigurationError',
        error: { class: 'Configuration', retryable: false },
      },
    ],
    [
      'a crash without a result is InvalidResult, retried',
      { kind: 'terminated', exitCode: 137 },
      { outcome: 'Failed', reason: 'InvalidResult', error: { class: 'Internal', retryable: true } },
    ],
    [
      'activeDeadlineSeconds is a retryable Timeout',
      { kind: 'deadline' },
      {
        outcome: 'Failed',
        reason: 'DeadlineExceeded',
        error: { class: 'Timeout', retryable: true },
      },
    ],
  ])('%s', async (_name, ending, expected) => {
    const { job, pods } = await observed(ending);
    const run = observeRun(job, pods, NOW);
    expect(run?.phase).toBe('Finished');
    expect(run?.record).toMatchObject({
      jobName: syncJob(T.created),
      kind: 'sync',
      attempt: 1,
      dueTime: '2026-01-05T10:00:00Z',
      startTime: '2026-01-05T10:00:00Z',
      completionTime: '2026-01-05T10:01:00Z',
      ...expected,
    });
  });

  it.each<[string, string | undefined, RegExp]>([
    [
      'no termination message',
      undefined,
      /exit code 1 and wrote no result to its termination message/,
    ],
    ['a blank termination message', '  \n', /wrote no result/],
    ['a truncated document', '{"version":"tributary.dev/result/v1","outc', /not a result \(.*JSON/],
    ['log lines instead of JSON', 'panic: nil map', /not a result/],
    [
      'a result of another version',
      JSON.stringify({ version: 'tributary.dev/result/v0', outcome: 'Succeeded' }),
      /invalid result \(version: .*tributary\.dev\/result\/v1/,
    ],
    [
      'an unknown outcome',
      result({ outcome: 'Done' as 'Succeeded' }),
      /invalid result \(outcome: /,
    ],
  ])('says what is wrong with %s', async (_name, message, explanation) => {
    const ending: Ending =
      message === undefined
        ? { kind: 'terminated', exitCode: 1 }
        : { kind: 'terminated', exitCode: 1, message };
    const { job, pods } = await observed(ending);
    const record = observeRun(job, pods, NOW)?.record;
    expect(record?.reason).toBe('InvalidResult');
    expect(record?.error?.retryable).toBe(true);
    expect(record?.error?.message).toMatch(explanation);
    expect(record?.error?.message).toMatch(/see its pod's output/);
  });

  it('reports a pod that cannot start, but not one being created', async () => {
    const { job } = await observed(undefined);
    const cluster = new FakeCluster();
    const waitingPods = (reason: string) => {
      cluster.jobs.set(job.metadata?.name ?? '', job);
      cluster.podWaiting(job.metadata?.name ?? '', reason, 'details');
      return cluster.podsOf(NAMESPACE, job.metadata?.name ?? '');
    };
    expect(observeRun(job, waitingPods('CreateContainerConfigError'), NOW)?.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'details',
    });
    expect(observeRun(job, waitingPods('ContainerCreating'), NOW)?.waiting).toBeUndefined();
  });

  it('ends a run whose image cannot be pulled after the grace, not before', async () => {
    const { job } = await observed(undefined);
    const cluster = new FakeCluster();
    const name = job.metadata?.name ?? '';
    cluster.jobs.set(name, job);
    cluster.podWaiting(name, 'ImagePullBackOff', 'Back-off pulling image "ghcr.io/x:1"');
    const pods = cluster.podsOf(NAMESPACE, name);
    const endAt = plus(T.created, POD_START_GRACE_MS);

    expect(observeRun(job, pods, NOW)).toMatchObject({ phase: 'Active', endAt });
    const ended = observeRun(job, pods, endAt);
    expect(ended).toMatchObject({ phase: 'Finished', abandoned: true });
    expect(ended?.record).toMatchObject({
      outcome: 'Failed',
      reason: 'ImagePullFailed',
      completionTime: rfc3339(endAt),
      error: { class: 'Configuration', retryable: false },
    });
    expect(ended?.record?.error?.message).toContain('cannot pull');
  });

  it('ignores Jobs that are not run Jobs', async () => {
    const { job } = await observed(undefined);
    const foreign = structuredClone(job);
    delete foreign.metadata?.annotations;
    expect(observeRun(foreign, [], NOW)).toBeUndefined();
  });

  it('takes the newest pod when the Job had several', async () => {
    const { job, pods } = await observed({ kind: 'terminated', exitCode: 0, message: SUCCEEDED });
    const older = structuredClone(pods[0] as V1Pod);
    older.metadata ??= {};
    older.metadata.creationTimestamp = plus(T.created, -MINUTE);
    const olderState = older.status?.containerStatuses?.[0];
    if (olderState) olderState.state = { terminated: { exitCode: 1, message: 'garbage' } };
    expect(observeRun(job, [older, ...pods], NOW)?.record?.outcome).toBe('Succeeded');
  });
});
