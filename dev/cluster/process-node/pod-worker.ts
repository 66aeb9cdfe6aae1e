/* eslint-disable @typescript-eslint/no-misused-spread --
   client-node models are plain data classes (only a static attribute map); the client serializes
   any object by its declared type, so object literals and spreads of fetched objects are safe. */
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Environment } from './env.ts';
import type { ImageResolver } from './images.ts';
import { apiErrorCode, errorMessage, type NodeApi } from './kube.ts';
import { podDirectory } from './paths.ts';
import {
  fetchPodObjects,
  materialisePod,
  planContainers,
  planVolumes,
  type PreparedContainer,
} from './prepare.ts';
import { StartProblem } from './problems.ts';
import { Prober, probeAction, runProbe, type ProbeKind } from './probes.ts';
import { crashLoopMessage, restartBackoff, shouldRestart } from './restarts.ts';
import {
  ProcessStartError,
  signalGroup,
  startProcess,
  type ContainerProcess,
  type ProcessExit,
} from './processes.ts';
import {
  abandonWaiting,
  podStatus,
  terminatedReason,
  type ContainerView,
  type PodView,
  type TerminatedState,
} from './status.ts';
import {
  MAX_TERMINATION_MESSAGE_BYTES,
  FALLBACK_LOG_BYTES,
  terminationMessage,
} from './termination.ts';

/** The kubelet's first image pull back-off: ErrImagePull turns ImagePullBackOff after it. */
const PULL_BACK_OFF_MS = 10_000;

/** The longest grace period the node honours (seconds), so tests never wait for minutes. */
export const MAX_GRACE_SECONDS = 30;

/** What a pod worker needs from its node. */
export interface PodWorkerContext {
  api: NodeApi;
  workDir: string;
  images: ImageResolver;
  baseEnv: Readonly<Environment>;
  serviceEnv: Readonly<Environment>;
  logPath: (namespace: string, pod: string, container: string) => string;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** The current time truncated to whole seconds (API timestamps have second precision). */
  now: () => Date;
  /** The pod's IP (a loopback address of its own; see sandbox.ts). */
  podIP: (uid: string) => string;
}

type Lifecycle = 'idle' | 'running' | 'stopping' | 'finished';

/**
 * The kubelet's pod worker for one pod (one uid): starts its containers once, reports status,
 * enforces `activeDeadlineSeconds`, and tears it down on deletion. All work for the pod runs
 * serially on one queue; an error in one step is logged and never stops the node.
 */
export class PodWorker {
  /** `namespace/name` of the pod. */
  readonly key: string;
  readonly #context: PodWorkerContext;
  readonly #namespace: string;
  readonly #name: string;
  readonly #uid: string;
  #pod: V1Pod;
  #lifecycle: Lifecycle = 'idle';
  #containers: ContainerView[] = [];
  readonly #processes = new Map<string, ContainerProcess>();
  #startTime: Date | undefined;
  #failure: PodView['failure'];
  #deleting = false;
  #deleted = false;
  #offline = false;
  #lastProblem = '';
  /** When an image was first found unpullable: ErrImagePull, then ImagePullBackOff. */
  #pullFailedAt: Date | undefined;
  #pullBackOffTimer: ReturnType<typeof setTimeout> | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #killAt = Number.POSITIVE_INFINITY;
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** A status write that failed on the way (an API server outage), to be sent again. */
  #statusRetryTimer: NodeJS.Timeout | undefined;
  #statusFailures = 0;
  #queue: Promise<void> = Promise.resolve();
  #syncQueued = false;
  readonly #podIP: string;
  /** What each container runs, kept for restarts. */
  readonly #prepared = new Map<string, PreparedContainer>();
  readonly #probers = new Map<string, Prober[]>();
  readonly #restartTimers = new Map<string, NodeJS.Timeout>();
  /** Back-off count per container (restarts in a row; see restarts.ts). */
  readonly #backoff = new Map<string, number>();

  /** Remembers the pod; does no work until `update`. */
  constructor(context: PodWorkerContext, pod: V1Pod) {
    this.#context = context;
    this.#namespace = pod.metadata?.namespace ?? '';
    this.#name = pod.metadata?.name ?? '';
    this.#uid = pod.metadata?.uid ?? '';
    this.key = `${this.#namespace}/${this.#name}`;
    this.#pod = pod;
    this.#podIP = context.podIP(this.#uid);
  }

  /** The pod's container names, first one first. */
  get containerNames(): string[] {
    return (this.#pod.spec?.containers ?? []).map((c) => c.name);
  }

  /** True once every process has exited and nothing more will run. */
  get finished(): boolean {
    return this.#lifecycle === 'finished';
  }

  /** Records the pod object (ignoring one older than the last seen) and queues a sync (coalesced with one already queued). */
  update(pod: V1Pod): void {
    // A periodic relist can deliver an older version than the watch already did.
    if (Number(pod.metadata?.resourceVersion) < Number(this.#pod.metadata?.resourceVersion)) return;
    this.#pod = pod;
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    this.#enqueue('sync', () => {
      this.#syncQueued = false;
      return this.#sync();
    });
  }

  /** The pod vanished from the API: stop its processes; no status can be written any more. */
  forget(): void {
    this.#enqueue('forget', () => {
      this.#offline = true;
      this.#terminate(this.#graceSeconds(this.#pod.metadata?.deletionGracePeriodSeconds));
      return this.#settleIfIdle();
    });
  }

  /** Node shutdown: TERM every process, KILL after `killAfterMs`, wait; writes nothing more. */
  async shutdown(killAfterMs: number): Promise<void> {
    this.#offline = true;
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#pullBackOffTimer);
    clearTimeout(this.#statusRetryTimer);
    this.#stopRestarting();
    const exits = [...this.#processes.values()].map((p) => p.exited);
    this.#terminate(killAfterMs / 1000);
    await Promise.all(exits);
    clearTimeout(this.#killTimer);
  }

  #enqueue(step: string, task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((error: unknown) => {
      this.#context.log('pod worker step failed', {
        pod: this.key,
        step,
        error: errorMessage(error),
      });
    });
  }

  async #sync(): Promise<void> {
    const pod = this.#pod;
    if (pod.metadata?.deletionTimestamp) return this.#onDeletion();
    if (this.#lifecycle !== 'idle') return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.#lifecycle = 'finished';
      return;
    }
    this.#startTime ??= this.#context.now();
    if (this.#deadlineExceeded()) return this.#failPending();
    await this.#tryStart(pod);
  }

  async #tryStart(fetched: V1Pod): Promise<void> {
    const { podDir, host } = this.#host();
    // The pod as planned carries its IP, for `status.podIP` field references.
    const pod = { ...fetched, status: { ...fetched.status, podIP: this.#podIP } };
    const objects = await fetchPodObjects(this.#context.api, pod);
    const plan = planContainers(pod, objects, host);
    let volumes;
    try {
      volumes = planVolumes(pod, objects);
    } catch (error) {
      if (!(error instanceof StartProblem)) throw error;
      return this.#wait(pod, abandonAll(plan, pod, error));
    }
    if (!plan.ok) return this.#wait(pod, plan.waiting);
    await materialisePod(podDir, volumes, plan.containers);
    if (this.#offline || this.#lifecycle !== 'idle') return;
    this.#spawnAll(plan.containers);
    this.#context.log('pod started', { pod: this.key, uid: this.#uid, podDir });
    this.#armDeadline(pod);
    await this.#writeStatus();
  }

  #host() {
    const podDir = podDirectory(this.#context.workDir, this.#namespace, this.#name, this.#uid);
    const { images, baseEnv, serviceEnv } = this.#context;
    const logPath = (container: string) =>
      this.#context.logPath(this.#namespace, this.#name, container);
    return {
      podDir,
      host: {
        podDir,
        images,
        baseEnv,
        serviceEnv,
        existsOnHost: existsSync,
        logPath,
        podIP: this.#podIP,
      },
    };
  }

  async #wait(pod: V1Pod, problems: ContainerView[]): Promise<void> {
    const waiting = this.#pullBackOff(problems);
    this.#containers = waiting;
    const summary = JSON.stringify(waiting.map((c) => c.state));
    if (summary !== this.#lastProblem) {
      this.#lastProblem = summary;
      const reasons = waiting.map((c) =>
        c.state.kind === 'waiting' ? c.state.reason : c.state.kind,
      );
      this.#context.log('pod cannot start yet', { pod: this.key, reasons });
    }
    if (pod.spec?.activeDeadlineSeconds !== undefined) this.#armDeadline(pod);
    await this.#writeStatus();
  }

  /**
   * As a kubelet reports an image it cannot pull: ErrImagePull first, ImagePullBackOff once the
   * first back-off (10 s) has passed, until the pod goes.
   */
  #pullBackOff(waiting: ContainerView[]): ContainerView[] {
    const unpullable = (c: ContainerView) =>
      c.state.kind === 'waiting' && c.state.reason === 'ErrImagePull';
    if (!waiting.some(unpullable)) {
      this.#pullFailedAt = undefined;
      return waiting;
    }
    const now = this.#context.now();
    this.#pullFailedAt ??= now;
    const waited = now.getTime() - this.#pullFailedAt.getTime();
    if (waited < PULL_BACK_OFF_MS) {
      this.#pullBackOffTimer ??= setTimeout(() => {
        this.#pullBackOffTimer = undefined;
        if (!this.#offline) this.update(this.#pod);
      }, PULL_BACK_OFF_MS - waited);
      return waiting;
    }
    return waiting.map((c) =>
      unpullable(c)
        ? {
            ...c,
            state: {
              kind: 'waiting',
              reason: 'ImagePullBackOff',
              message: `Back-off pulling image "${c.image}"`,
            },
          }
        : c,
    );
  }

  /** Spawns every container synchronously, so `shutdown` sees every process it must stop. */
  #spawnAll(containers: readonly PreparedContainer[]): void {
    this.#lifecycle = 'running';
    this.#containers = containers.map((prepared) => this.#spawn(prepared));
    if (this.#processes.size === 0) this.#lifecycle = 'finished';
  }

  #spawn(prepared: PreparedContainer, previous?: ContainerView): ContainerView {
    const { name, image } = prepared;
    const history = {
      ...(previous?.restartCount === undefined ? {} : { restartCount: previous.restartCount }),
      ...(previous?.lastTerminated === undefined
        ? {}
        : { lastTerminated: previous.lastTerminated }),
    };
    this.#prepared.set(name, prepared);
    const startedAt = this.#context.now();
    try {
      const child = startProcess(prepared);
      this.#processes.set(name, child);
      const containerID = `process://${child.pid}`;
      void child.exited.then((exit) => {
        this.#enqueue('exit', () => this.#onExit(prepared, exit, startedAt, containerID));
      });
      const gates = this.#startProbes(prepared);
      return {
        name,
        image,
        ...history,
        state: { kind: 'running', containerID, startedAt, ...gates },
      };
    } catch (error) {
      if (!(error instanceof ProcessStartError)) throw error;
      const finishedAt = startedAt;
      return {
        name,
        image,
        ...history,
        state: {
          kind: 'terminated',
          exitCode: 128,
          reason: 'StartError',
          message: error.message,
          finishedAt,
        },
      };
    }
  }

  async #onExit(
    prepared: PreparedContainer,
    exit: ProcessExit,
    startedAt: Date,
    containerID: string,
  ): Promise<void> {
    this.#processes.delete(prepared.name);
    this.#stopProbes(prepared.name);
    const message = terminationMessage({
      file: await readStart(prepared.terminationHostPath, MAX_TERMINATION_MESSAGE_BYTES),
      policy: prepared.terminationMessagePolicy,
      exitCode: exit.exitCode,
      logTail: (await readEnd(prepared.logPath, 2 * FALLBACK_LOG_BYTES)) ?? Buffer.alloc(0),
    });
    const { exitCode } = exit;
    const state = {
      kind: 'terminated' as const,
      exitCode,
      reason: terminatedReason(exitCode),
      message,
      startedAt,
      finishedAt: this.#context.now(),
      containerID,
    };
    this.#context.log('container exited', {
      pod: this.key,
      container: prepared.name,
      exitCode,
      signal: exit.signal,
    });
    const restarting =
      this.#lifecycle === 'running' && shouldRestart(this.#restartPolicy, exitCode);
    this.#updateContainer(prepared.name, (c) =>
      restarting ? this.#restart(c, prepared, state) : { ...c, state },
    );
    if (this.#processes.size === 0 && this.#restartTimers.size === 0) this.#finish();
    await this.#writeStatus();
    if (this.finished && this.#deleting) await this.#deleteNow();
  }

  get #restartPolicy(): string | undefined {
    return this.#pod.spec?.restartPolicy;
  }

  #updateContainer(name: string, update: (view: ContainerView) => ContainerView): void {
    this.#containers = this.#containers.map((c) => (c.name === name ? update(c) : c));
  }

  /** Runs the container again, now or after its back-off (waiting in `CrashLoopBackOff`). */
  #restart(view: ContainerView, prepared: PreparedContainer, last: TerminatedState): ContainerView {
    const ranMs = last.finishedAt.getTime() - (last.startedAt ?? last.finishedAt).getTime();
    const backoff = restartBackoff(this.#backoff.get(view.name) ?? 0, ranMs);
    this.#backoff.set(view.name, backoff.count);
    // restartCount counts restarts done: it moves when the container runs again.
    const next = { ...view, lastTerminated: last };
    const restarted = (c: ContainerView) => ({ ...c, restartCount: (c.restartCount ?? 0) + 1 });
    if (backoff.delayMs === 0) return this.#spawn(prepared, restarted(next));
    const pod = { namespace: this.#namespace, name: this.#name, uid: this.#uid };
    const message = crashLoopMessage(backoff.delayMs, view.name, pod);
    const timer = setTimeout(() => {
      this.#enqueue('restart', () => {
        this.#restartTimers.delete(view.name);
        if (this.#lifecycle !== 'running' || this.#offline) return Promise.resolve();
        this.#updateContainer(view.name, (c) => this.#spawn(prepared, restarted(c)));
        return this.#writeStatus();
      });
    }, backoff.delayMs);
    this.#restartTimers.set(view.name, timer);
    return { ...next, state: { kind: 'waiting', reason: 'CrashLoopBackOff', message } };
  }

  /** Starts the container's probes; returns its readiness gates while they have not passed. */
  #startProbes(prepared: PreparedContainer): { ready?: boolean; started?: boolean } {
    const spec = this.#pod.spec?.containers.find((c) => c.name === prepared.name);
    if (spec === undefined) return {};
    const kinds: [ProbeKind, V1Probe | undefined][] = spec.startupProbe
      ? [['startup', spec.startupProbe]]
      : [
          ['readiness', spec.readinessProbe],
          ['liveness', spec.livenessProbe],
        ];
    this.#runProbes(prepared, spec, kinds);
    return {
      ...(spec.startupProbe ? { started: false } : {}),
      ...(spec.startupProbe || spec.readinessProbe ? { ready: false } : {}),
    };
  }

  #runProbes(
    prepared: PreparedContainer,
    spec: V1Container,
    kinds: [ProbeKind, V1Probe | undefined][],
  ): void {
    const probers: Prober[] = [];
    for (const [kind, probe] of kinds) {
      if (probe === undefined) continue;
      const action = probeAction(spec, probe, this.#podIP);
      const prober: Prober = new Prober(
        kind,
        probe,
        (timeoutMs) => runProbe(action, timeoutMs, prepared),
        {
          changed: (passing, message) => {
            this.#enqueue(`${kind} probe`, () =>
              this.#onProbe({ prepared, spec, prober, probe, passing, message }),
            );
          },
        },
      );
      probers.push(prober);
    }
    this.#probers.set(prepared.name, [...(this.#probers.get(prepared.name) ?? []), ...probers]);
    for (const prober of probers) prober.start();
  }

  /** A probe's result flipped: readiness and start-up gate Ready; a failure kills the container. */
  async #onProbe(result: {
    prepared: PreparedContainer;
    spec: V1Container;
    prober: Prober;
    probe: V1Probe;
    passing: boolean;
    message: string;
  }): Promise<void> {
    const { prepared, spec, prober, probe, passing, message } = result;
    const { name } = prepared;
    if (!(this.#probers.get(name) ?? []).includes(prober) || this.#lifecycle !== 'running') return;
    const log = { pod: this.key, container: name, probe: prober.kind, passing, message };
    this.#context.log('probe result changed', log);
    const set = (gates: { ready?: boolean; started?: boolean }) => {
      this.#updateContainer(name, (c) =>
        c.state.kind === 'running' ? { ...c, state: { ...c.state, ...gates } } : c,
      );
    };
    if (!passing && prober.kind !== 'readiness') {
      this.#stopProbes(name);
      this.#killContainer(name, this.#graceSeconds(probe.terminationGracePeriodSeconds));
    } else if (prober.kind === 'startup') {
      this.#stopProbes(name);
      this.#runProbes(prepared, spec, [
        ['readiness', spec.readinessProbe],
        ['liveness', spec.livenessProbe],
      ]);
      set({ started: true, ready: spec.readinessProbe === undefined });
    } else if (prober.kind === 'readiness') {
      set({ ready: passing });
    }
    await this.#writeStatus();
  }

  #stopProbes(name: string): void {
    for (const prober of this.#probers.get(name) ?? []) prober.stop();
    this.#probers.delete(name);
  }

  /** TERM one container's process group, KILL it after `graceSeconds` if it is still the one. */
  #killContainer(name: string, graceSeconds: number): void {
    const child = this.#processes.get(name);
    if (child === undefined) return;
    signalGroup(child.pid, graceSeconds > 0 ? 'SIGTERM' : 'SIGKILL');
    setTimeout(() => {
      if (this.#processes.get(name) === child) signalGroup(child.pid, 'SIGKILL');
    }, graceSeconds * 1000).unref();
  }

  /** No container is restarted or probed any more. */
  #stopRestarting(): void {
    for (const timer of this.#restartTimers.values()) clearTimeout(timer);
    this.#restartTimers.clear();
    for (const name of [...this.#probers.keys()]) this.#stopProbes(name);
  }

  #finish(): void {
    this.#lifecycle = 'finished';
    clearTimeout(this.#killTimer);
    clearTimeout(this.#deadlineTimer);
  }

  async #onDeletion(): Promise<void> {
    this.#deleting = true;
    const grace = this.#graceSeconds(this.#pod.metadata?.deletionGracePeriodSeconds);
    switch (this.#lifecycle) {
      case 'running':
      case 'stopping':
        this.#terminate(grace);
        return this.#settleIfIdle();
      case 'idle': {
        const phase = this.#pod.status?.phase;
        if (phase !== 'Succeeded' && phase !== 'Failed') await this.#failPending();
        this.#finish();
        await this.#deleteNow();
        return;
      }
      case 'finished':
        await this.#deleteNow();
        return;
    }
  }

  /** A pod that never ran is finished by the node: Failed, its containers `ContainerStatusUnknown`. */
  async #failPending(): Promise<void> {
    if (this.#containers.length === 0) {
      const specs = this.#pod.spec?.containers ?? [];
      this.#containers = specs.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        state: { kind: 'waiting', reason: 'ContainerCreating' },
      }));
    }
    this.#containers = abandonWaiting(this.#containers, this.#context.now());
    this.#finish();
    await this.#writeStatus();
  }

  /** TERM every process group now and KILL it after `graceSeconds` (a shorter grace wins). */
  #terminate(graceSeconds: number): void {
    if (this.#lifecycle === 'running') this.#lifecycle = 'stopping';
    this.#stopRestarting();
    const killAt = Date.now() + graceSeconds * 1000;
    if (killAt >= this.#killAt) return;
    this.#killAt = killAt;
    for (const { pid } of this.#processes.values())
      signalGroup(pid, graceSeconds > 0 ? 'SIGTERM' : 'SIGKILL');
    clearTimeout(this.#killTimer);
    this.#killTimer = setTimeout(() => {
      for (const { pid } of this.#processes.values()) signalGroup(pid, 'SIGKILL');
    }, graceSeconds * 1000);
  }

  #graceSeconds(requested: number | undefined): number {
    const fallback = this.#pod.spec?.terminationGracePeriodSeconds ?? MAX_GRACE_SECONDS;
    return Math.max(0, Math.min(requested ?? fallback, MAX_GRACE_SECONDS));
  }

  #armDeadline(pod: V1Pod): void {
    const seconds = pod.spec?.activeDeadlineSeconds;
    if (seconds === undefined || this.#deadlineTimer !== undefined || this.#startTime === undefined)
      return;
    const remaining = this.#startTime.getTime() + seconds * 1000 - Date.now();
    this.#deadlineTimer = setTimeout(
      () => {
        this.#enqueue('deadline', () => this.#onDeadline());
      },
      Math.max(0, remaining),
    );
  }

  #deadlineExceeded(): boolean {
    const seconds = this.#pod.spec?.activeDeadlineSeconds;
    if (seconds === undefined || this.#startTime === undefined) return false;
    const exceeded = Date.now() >= this.#startTime.getTime() + seconds * 1000;
    if (exceeded) this.#failure = DEADLINE_EXCEEDED;
    return exceeded;
  }

  async #onDeadline(): Promise<void> {
    if (this.#lifecycle === 'finished' || this.#deleting) return;
    this.#failure = DEADLINE_EXCEEDED;
    this.#context.log('pod deadline exceeded', { pod: this.key });
    if (this.#lifecycle === 'idle') return this.#failPending();
    this.#terminate(this.#graceSeconds(undefined));
    await this.#settleIfIdle();
  }

  /** Stopping with no process left (all waiting for a restart): the pod is finished now. */
  async #settleIfIdle(): Promise<void> {
    if (this.#lifecycle !== 'stopping' || this.#processes.size > 0) return;
    this.#containers = abandonWaiting(this.#containers, this.#context.now());
    this.#finish();
    await this.#writeStatus();
    if (this.#deleting) await this.#deleteNow();
  }

  /** Writes `pods/status` from the current view, re-reading the pod on 409 Conflict. */
  /**
   * Writes the pod's status; when that fails (the API server is down or restarting), writes it
   * again later, with back-off from 0.5 s to 10 s, until it lands — as the kubelet's status
   * manager does. A status lost in an outage would leave a finished pod Running for ever, and
   * its Job active until its deadline.
   */
  async #writeStatus(): Promise<void> {
    try {
      await this.#writeStatusOnce();
      this.#statusFailures = 0;
    } catch (error) {
      this.#retryStatus();
      throw error;
    }
  }

  #retryStatus(): void {
    if (this.#offline || this.#statusRetryTimer !== undefined) return;
    const delayMs = Math.min(10_000, 500 * 2 ** this.#statusFailures++);
    this.#statusRetryTimer = setTimeout(() => {
      this.#statusRetryTimer = undefined;
      this.#enqueue('status retry', () => this.#writeStatus());
    }, delayMs);
    this.#statusRetryTimer.unref();
  }

  async #writeStatusOnce(): Promise<void> {
    if (this.#offline) return;
    const view: PodView = {
      containers: this.#containers,
      startTime: this.#startTime ?? this.#context.now(),
      podIP: this.#podIP,
      ...(this.#failure ? { failure: this.#failure } : {}),
    };
    for (let attempt = 0; attempt < 10; attempt++) {
      const fresh = await this.#context.api.readPod(this.#namespace, this.#name);
      if (fresh?.metadata?.uid !== this.#uid || this.#isOffline()) return;
      const status = podStatus(fresh.status, view, this.#context.now());
      if (canonicalJson(status) === canonicalJson(fresh.status)) return;
      try {
        await this.#context.api.replacePodStatus({ ...fresh, status });
        return;
      } catch (error) {
        const code = apiErrorCode(error);
        if (code === 'NotFound') return;
        if (code !== 'Conflict') throw error;
      }
    }
    throw new Error(`status of ${this.key} kept conflicting`);
  }

  /** A method, not a field read, so the check is not narrowed away across awaits. */
  #isOffline(): boolean {
    return this.#offline;
  }

  async #deleteNow(): Promise<void> {
    if (this.#offline || this.#deleted) return;
    await this.#context.api.deletePodNow(this.#namespace, this.#name, this.#uid);
    this.#deleted = true;
    this.#context.log('pod deleted', { pod: this.key });
  }
}

const DEADLINE_EXCEEDED = {
  reason: 'DeadlineExceeded',
  message: 'Pod was active on the node longer than the specified deadline',
};

function abandonAll(
  plan: ReturnType<typeof planContainers>,
  pod: V1Pod,
  problem: StartProblem,
): ContainerView[] {
  const containers = pod.spec?.containers ?? [];
  const waiting = plan.ok ? undefined : plan.waiting;
  return containers.map((c, i) => {
    const own = waiting?.[i];
    if (own?.state.kind === 'waiting' && own.state.reason !== 'ContainerCreating') return own;
    return {
      name: c.name,
      image: c.image ?? '',
      state: { kind: 'waiting', reason: problem.reason, message: problem.message },
    };
  });
}

/** JSON with sorted keys and without null/undefined, to compare a status with the stored one. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (
      inner === null ||
      typeof inner !== 'object' ||
      Array.isArray(inner) ||
      inner instanceof Date
    )
      return inner;
    const entries = Object.entries(inner as Record<string, unknown>).filter(
      ([, v]) => v !== undefined && v !== null,
    );
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

async function readStart(path: string, bytes: number): Promise<Buffer | undefined> {
  try {
    const file = await readFile(path);
    return file.subarray(0, bytes);
  } catch {
    return undefined;
  }
}

async function readEnd(path: string, bytes: number): Promise<Buffer | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
