/* eslint-disable @typescript-eslint/no-misused-spread --
   client-node models are plain data classes (only a static attribute map); the client serializes
   any object by its declared type, so object literals and spreads of fetched objects are safe. */
import { constants } from 'node:os';
import type { V1ContainerStatus, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { LOOPBACK_IP } from './env.ts';

/** A container that has exited. */
export interface TerminatedState {
  kind: 'terminated';
  exitCode: number;
  reason: string;
  message: string;
  finishedAt: Date;
  containerID?: string;
  startedAt?: Date;
}

/** One container's lifecycle as the node tracks it. */
export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | {
      kind: 'running';
      containerID: string;
      startedAt: Date;
      /** Its readiness probe passes (true when it has none). Default true. */
      ready?: boolean;
      /** Its startup probe passed (true when it has none). Default true. */
      started?: boolean;
    }
  | TerminatedState;

/** A container of the pod with its image and state. */
export interface ContainerView {
  name: string;
  image: string;
  state: ContainerState;
  /** Times the node restarted it (restartPolicy Always/OnFailure). Default 0. */
  restartCount?: number;
  /** How its previous run ended, once it was restarted. */
  lastTerminated?: TerminatedState;
}

/** Everything the node knows about a pod that its status is computed from. */
export interface PodView {
  containers: ContainerView[];
  /** When the node acknowledged the pod (the kubelet's `status.startTime`). */
  startTime: Date;
  /** Set when the node itself failed the pod, e.g. `DeadlineExceeded`. */
  failure?: { reason: string; message: string };
  /** The pod IP. Default 127.0.0.1. */
  podIP?: string;
}

/** Pod phase `Pending | Running | Succeeded | Failed`. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/**
 * The kubelet's phase: Pending while any container waits to run for the first time, Running
 * while any runs or waits to be restarted (`CrashLoopBackOff`), then Succeeded when every
 * container exited 0 and Failed otherwise (or when the node failed the pod). A container is
 * only left terminated when it will not be restarted (restartPolicy, deletion, deadline).
 */
export function podPhase(view: PodView): PodPhase {
  const states = view.containers.map((c) => c.state);
  if (view.failure && states.every((s) => s.kind === 'terminated')) return 'Failed';
  const restarting = (c: ContainerView) =>
    c.state.kind === 'waiting' && c.lastTerminated !== undefined;
  if (view.containers.some((c) => c.state.kind === 'waiting' && !restarting(c))) return 'Pending';
  if (view.containers.some((c) => c.state.kind === 'running' || restarting(c))) return 'Running';
  return states.every((s) => s.kind === 'terminated' && s.exitCode === 0) ? 'Succeeded' : 'Failed';
}

/** The exit code a container runtime reports: the code, or 128 + the signal number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 9 : constants.signals[signal]);
}

/** `state.terminated.reason` for an exit code (OOMKilled cannot happen to a local process). */
export function terminatedReason(exitCode: number): 'Completed' | 'Error' {
  return exitCode === 0 ? 'Completed' : 'Error';
}

/**
 * What the kubelet reports for containers that never ran in a pod it has finished: terminated,
 * exit code 137, reason `ContainerStatusUnknown`.
 */
export function abandonWaiting(containers: readonly ContainerView[], now: Date): ContainerView[] {
  return containers.map((c) =>
    c.state.kind !== 'waiting'
      ? c
      : c.lastTerminated !== undefined
        ? // Waiting to be restarted: its last run is how it ended.
          { ...c, state: c.lastTerminated }
        : {
            ...c,
            state: {
              kind: 'terminated',
              exitCode: 137,
              reason: 'ContainerStatusUnknown',
              message: 'The container could not be located when the pod was terminated',
              finishedAt: now,
            },
          },
  );
}

/** The `V1ContainerStatus` of one container. */
export function containerStatus(view: ContainerView): V1ContainerStatus {
  const { state } = view;
  const base = { name: view.name, image: view.image, imageID: `process://${view.image}` };
  const last = view.lastTerminated;
  const common = {
    restartCount: view.restartCount ?? 0,
    lastState: last === undefined ? {} : { terminated: terminatedStatus(last) },
  };
  switch (state.kind) {
    case 'waiting':
      return {
        ...base,
        ...common,
        ready: false,
        started: false,
        state: {
          waiting: {
            reason: state.reason,
            ...(state.message === undefined ? {} : { message: state.message }),
          },
        },
      };
    case 'running':
      return {
        ...base,
        ...common,
        ready: state.ready ?? true,
        started: state.started ?? true,
        containerID: state.containerID,
        state: { running: { startedAt: state.startedAt } },
      };
    case 'terminated':
      return {
        ...base,
        ...common,
        ready: false,
        started: false,
        ...(state.containerID === undefined ? {} : { containerID: state.containerID }),
        state: { terminated: terminatedStatus(state) },
      };
  }
}

function terminatedStatus(state: TerminatedState) {
  const { exitCode, reason, message, finishedAt, containerID, startedAt } = state;
  return {
    exitCode,
    reason,
    finishedAt,
    ...(message === '' ? {} : { message }),
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(containerID === undefined ? {} : { containerID }),
  };
}

/**
 * The pod's `status` as the kubelet writes it, starting from `previous` (fields the node does not
 * own, such as `qosClass` and foreign conditions, are kept; `lastTransitionTime` moves only when a
 * condition's status changes).
 */
export function podStatus(
  previous: V1PodStatus | undefined,
  view: PodView,
  now: Date,
): V1PodStatus {
  const phase = podPhase(view);
  const status: V1PodStatus = {
    ...previous,
    phase,
    conditions: podConditions(previous?.conditions ?? [], view, phase, now),
    hostIP: LOOPBACK_IP,
    hostIPs: [{ ip: LOOPBACK_IP }],
    podIP: view.podIP ?? LOOPBACK_IP,
    podIPs: [{ ip: view.podIP ?? LOOPBACK_IP }],
    startTime: previous?.startTime ?? view.startTime,
    containerStatuses: view.containers.map(containerStatus),
  };
  delete status.reason;
  delete status.message;
  if (view.failure && phase === 'Failed') {
    status.reason = view.failure.reason;
    status.message = view.failure.message;
  }
  return status;
}

type ConditionValue = Pick<V1PodCondition, 'type' | 'status' | 'reason' | 'message'>;

function podConditions(
  previous: readonly V1PodCondition[],
  view: PodView,
  phase: PodPhase,
  now: Date,
): V1PodCondition[] {
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const creating = view.containers.some(
    (c) => c.state.kind === 'waiting' && c.state.reason === 'ContainerCreating',
  );
  const unready = view.containers
    .filter((c) => c.state.kind !== 'running' || c.state.ready === false)
    .map((c) => c.name);
  const readiness: ConditionValue =
    unready.length === 0
      ? { type: '', status: 'True' }
      : phase === 'Succeeded'
        ? { type: '', status: 'False', reason: 'PodCompleted' }
        : {
            type: '',
            status: 'False',
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${unready.join(' ')}]`,
          };
  const owned: ConditionValue[] = [
    { type: 'PodReadyToStartContainers', status: terminal || creating ? 'False' : 'True' },
    {
      type: 'Initialized',
      status: 'True',
      ...(phase === 'Succeeded' ? { reason: 'PodCompleted' } : {}),
    },
    { ...readiness, type: 'Ready' },
    { ...readiness, type: 'ContainersReady' },
    { type: 'PodScheduled', status: 'True' },
  ];
  const ownedTypes = new Set(owned.map((c) => c.type));
  return [
    ...owned.map((c) =>
      withTransitionTime(
        c,
        previous.find((p) => p.type === c.type),
        now,
      ),
    ),
    ...previous.filter((p) => !ownedTypes.has(p.type)),
  ];
}

function withTransitionTime(
  value: ConditionValue,
  previous: V1PodCondition | undefined,
  now: Date,
): V1PodCondition {
  const lastTransitionTime =
    previous?.status === value.status && previous.lastTransitionTime
      ? previous.lastTransitionTime
      : now;
  const condition: V1PodCondition = { type: value.type, status: value.status, lastTransitionTime };
  if (value.reason !== undefined) condition.reason = value.reason;
  if (value.message !== undefined) condition.message = value.message;
  return condition;
}
