import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  POD_START_GRACE_MS,
  startProblem,
} from '../../../../operator/controller/integration/pod-start.ts';

const created = new Date('2026-01-05T10:00:00Z');
const podCreated = new Date('2026-01-05T10:00:05Z');
const graceAfter = (time: Date) => new Date(time.getTime() + POD_START_GRACE_MS);

const job = (status: V1Job['status'] = {}): V1Job => ({
  metadata: { name: 'stripe-s-1-1' },
  status,
});

function pod(status: V1Pod['status']): V1Pod {
  return {
    metadata: { name: 'stripe-s-1-1-x', creationTimestamp: podCreated },
    spec: { containers: [{ name: 'connector', image: 'ghcr.io/acme/connector:1' }] },
    status,
  };
}

const waiting = (reason: string) =>
  pod({
    containerStatuses: [
      {
        name: 'connector',
        image: '',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason, message: 'details' } },
      },
    ],
  });

interface Row {
  name: string;
  job: V1Job;
  pod: V1Pod | undefined;
  expected: { reason: string; endAt: Date } | undefined;
}

const rows: Row[] = [
  {
    name: 'no pod yet: ended a grace after the Job was created',
    job: job(),
    pod: undefined,
    expected: { reason: 'PodNotCreated', endAt: graceAfter(created) },
  },
  {
    name: 'no pod cached but the Job counts one active: no problem',
    job: job({ active: 1 }),
    pod: undefined,
    expected: undefined,
  },
  {
    name: 'ErrImagePull: ended a grace after the pod was created',
    job: job(),
    pod: waiting('ErrImagePull'),
    expected: { reason: 'ImagePullFailed', endAt: graceAfter(podCreated) },
  },
  {
    name: 'ImagePullBackOff: the same',
    job: job(),
    pod: waiting('ImagePullBackOff'),
    expected: { reason: 'ImagePullFailed', endAt: graceAfter(podCreated) },
  },
  {
    name: 'InvalidImageName: at once, no back-off will fix it',
    job: job(),
    pod: waiting('InvalidImageName'),
    expected: { reason: 'ImagePullFailed', endAt: podCreated },
  },
  {
    name: 'CreateContainerError: ended after the grace',
    job: job(),
    pod: waiting('CreateContainerError'),
    expected: { reason: 'ContainerCreateFailed', endAt: graceAfter(podCreated) },
  },
  {
    name: 'unschedulable: ended after the grace',
    job: job(),
    pod: pod({
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' },
      ],
    }),
    expected: { reason: 'PodUnschedulable', endAt: graceAfter(podCreated) },
  },
  {
    name: 'a missing Secret key is a stall of its own (PodConfigError), not ended',
    job: job(),
    pod: waiting('CreateContainerConfigError'),
    expected: undefined,
  },
  {
    name: 'a container being created is fine',
    job: job(),
    pod: waiting('ContainerCreating'),
    expected: undefined,
  },
  {
    name: 'a running pod is fine',
    job: job({ active: 1 }),
    pod: pod({ phase: 'Running' }),
    expected: undefined,
  },
];

describe('startProblem: pods that cannot start', () => {
  it.each(rows)('$name', ({ job, pod, expected }) => {
    const problem = startProblem(job, pod, created);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatchObject(expected);
  });

  it('names the image and the kubelet reason in the message', () => {
    expect(startProblem(job(), waiting('ErrImagePull'), created)?.message).toBe(
      'run stripe-s-1-1 cannot pull ghcr.io/acme/connector:1 (ErrImagePull: details): fix the image reference or the registry credentials',
    );
  });
});
