/**
 * The process node's prober and restarts: probe settings, targets and thresholds, one real
 * attempt of each kind, the back-off, and the pod status a restarting or unready container gives.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Container } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  initialProbeState,
  Prober,
  probeAction,
  probeSettings,
  recordProbe,
  runProbe,
  type ProbeOutcome,
} from '../../../dev/cluster/process-node/probes.ts';
import {
  crashLoopMessage,
  restartBackoff,
  shouldRestart,
} from '../../../dev/cluster/process-node/restarts.ts';
import {
  abandonWaiting,
  podPhase,
  podStatus,
  type ContainerView,
  type TerminatedState,
} from '../../../dev/cluster/process-node/status.ts';

const container: V1Container = {
  name: 'operator',
  image: 'ghcr.io/tributary-dev/tributary:0.1.0',
  ports: [{ name: 'metrics', containerPort: 8080 }],
};

describe('probe settings and targets', () => {
  it('applies the API defaults', () => {
    expect(probeSettings({})).toEqual({
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1000,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(probeSettings({ periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 1 })).toEqual(
      expect.objectContaining({ periodMs: 5000, timeoutMs: 2000, failureThreshold: 1 }),
    );
  });

  it('resolves a named port against the pod IP, keeping path, scheme and headers', () => {
    const probe = {
      httpGet: {
        path: '/readyz',
        port: 'metrics',
        httpHeaders: [{ name: 'X-A', value: '1' }],
      },
    };
    expect(probeAction(container, probe, '127.64.0.7')).toEqual({
      kind: 'http',
      url: 'http://127.64.0.7:8080/readyz',
      headers: { 'X-A': '1' },
    });
    const https = { httpGet: { port: 9443, scheme: 'HTTPS', host: 'localhost' } };
    expect(probeAction(container, https, '127.64.0.7')).toEqual({
      kind: 'http',
      url: 'https://localhost:9443/',
      headers: {},
    });
    expect(probeAction(container, { tcpSocket: { port: 'metrics' } }, '127.64.0.7')).toEqual({
      kind: 'tcp',
      host: '127.64.0.7',
      port: 8080,
    });
    expect(probeAction(container, { exec: { command: ['true'] } }, 'x')).toEqual({
      kind: 'exec',
      argv: ['true'],
    });
  });

  it('makes an unknown port name or a gRPC probe an attempt that fails with a reason', () => {
    expect(probeAction(container, { httpGet: { port: 'web' } }, 'x')).toEqual({
      kind: 'unsupported',
      message: 'unknown port web',
    });
    expect(probeAction(container, { grpc: { port: 8080 } }, 'x').kind).toBe('unsupported');
  });
});

describe('probe thresholds', () => {
  const settings = { ...probeSettings({}), successThreshold: 2, failureThreshold: 3 };

  it('starts not ready, not started, but alive', () => {
    expect(initialProbeState('readiness').passing).toBe(false);
    expect(initialProbeState('startup').passing).toBe(false);
    expect(initialProbeState('liveness').passing).toBe(true);
  });

  it('flips only after successThreshold successes or failureThreshold failures in a row', () => {
    const results = [true, false, true, true, false, false, true, false, false, false];
    let state = initialProbeState('readiness');
    const passing = results.map((ok) => (state = recordProbe(state, ok, settings)).passing);
    expect(passing).toEqual([false, false, false, true, true, true, true, true, true, false]);
  });
});

describe('probe attempts', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/readyz' ? 200 : req.url === '/moved' ? 302 : 503;
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
  });
  const exec = { env: { PATH: process.env.PATH ?? '' }, cwd: process.cwd() };
  const http = (path: string) => ({
    kind: 'http' as const,
    url: `http://127.0.0.1:${port}${path}`,
    headers: {},
  });

  it('passes on HTTP 200-399 and fails on other codes and refused connections', async () => {
    expect(await runProbe(http('/readyz'), 1000, exec)).toEqual({ ok: true, message: '' });
    expect((await runProbe(http('/moved'), 1000, exec)).ok).toBe(true);
    expect(await runProbe(http('/healthz'), 1000, exec)).toEqual({
      ok: false,
      message: 'HTTP probe failed with statuscode: 503',
    });
    const closed = { kind: 'tcp' as const, host: '127.0.0.1', port: 1 };
    expect((await runProbe(closed, 1000, exec)).ok).toBe(false);
    expect(await runProbe({ kind: 'tcp', host: '127.0.0.1', port }, 1000, exec)).toEqual({
      ok: true,
      message: '',
    });
  });

  it('passes an exec probe on exit code 0 only', async () => {
    expect((await runProbe({ kind: 'exec', argv: ['true'] }, 1000, exec)).ok).toBe(true);
    expect((await runProbe({ kind: 'exec', argv: ['false'] }, 1000, exec)).ok).toBe(false);
  });
});

describe('Prober', () => {
  it('probes after the initial delay, then every period, and reports flips only', async () => {
    vi.useFakeTimers();
    try {
      const outcomes: ProbeOutcome[] = [
        { ok: false, message: 'refused' },
        { ok: true, message: '' },
        { ok: true, message: '' },
        { ok: false, message: 'a' },
        { ok: false, message: 'b' },
      ];
      const attempts: number[] = [];
      const changes: [boolean, string][] = [];
      const prober = new Prober(
        'readiness',
        { initialDelaySeconds: 2, periodSeconds: 5, failureThreshold: 2 },
        (timeoutMs) => {
          attempts.push(Date.now());
          expect(timeoutMs).toBe(1000);
          return Promise.resolve(outcomes.shift() ?? { ok: true, message: '' });
        },
        { changed: (passing, message) => changes.push([passing, message]) },
      );
      const start = Date.now();
      prober.start();
      await vi.advanceTimersByTimeAsync(2000 + 4 * 5000);
      expect(attempts.map((t) => t - start)).toEqual([2000, 7000, 12_000, 17_000, 22_000]);
      expect(changes).toEqual([
        [true, ''],
        [false, 'b'],
      ]);
      prober.stop();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(attempts).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('restarts', () => {
  it('follow restartPolicy (Always by default)', () => {
    expect(shouldRestart(undefined, 0)).toBe(true);
    expect(shouldRestart('Always', 0)).toBe(true);
    expect(shouldRestart('OnFailure', 0)).toBe(false);
    expect(shouldRestart('OnFailure', 1)).toBe(true);
    expect(shouldRestart('Never', 1)).toBe(false);
  });

  it('back off immediately, then 10 s doubling to 5 min; a 10 min run starts over', () => {
    let count = 0;
    const delays = Array.from({ length: 8 }, () => {
      const next = restartBackoff(count, 1000);
      count = next.count;
      return next.delayMs / 1000;
    });
    expect(delays).toEqual([0, 10, 20, 40, 80, 160, 300, 300]);
    expect(restartBackoff(count, 600_000)).toEqual({ delayMs: 0, count: 1 });
  });

  it('say so as the kubelet does', () => {
    const pod = { namespace: 'ns', name: 'op-1', uid: 'u1' };
    expect(crashLoopMessage(20_000, 'operator', pod)).toBe(
      'back-off 20s restarting failed container=operator pod=op-1_ns(u1)',
    );
  });
});

describe('pod status of restarting and unready containers', () => {
  const T0 = new Date('2025-01-01T00:00:00Z');
  const T1 = new Date('2025-01-01T00:00:05Z');
  const last: TerminatedState = {
    kind: 'terminated',
    exitCode: 1,
    reason: 'Error',
    message: '',
    startedAt: T0,
    finishedAt: T1,
    containerID: 'process://41',
  };
  const restarting: ContainerView = {
    name: 'operator',
    image: 'img',
    restartCount: 2,
    lastTerminated: last,
    state: { kind: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 10s ...' },
  };

  it('a container waiting for its restart keeps the pod Running, unready, with its last run', () => {
    const view = { containers: [restarting], startTime: T0, podIP: '127.64.0.2' };
    expect(podPhase(view)).toBe('Running');
    const status = podStatus(undefined, view, T1);
    expect(status.podIP).toBe('127.64.0.2');
    expect(status.containerStatuses?.[0]).toEqual(
      expect.objectContaining({
        restartCount: 2,
        ready: false,
        lastState: {
          terminated: {
            exitCode: 1,
            reason: 'Error',
            startedAt: T0,
            finishedAt: T1,
            containerID: 'process://41',
          },
        },
      }),
    );
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('a running container is Ready only once its readiness probe passed', () => {
    const running = (ready?: boolean): ContainerView => ({
      name: 'operator',
      image: 'img',
      state: {
        kind: 'running',
        containerID: 'process://42',
        startedAt: T0,
        ...(ready === undefined ? {} : { ready }),
      },
    });
    const ready = (c: ContainerView) =>
      podStatus(undefined, { containers: [c], startTime: T0 }, T1).conditions?.find(
        (x) => x.type === 'Ready',
      );
    expect(ready(running(false))).toEqual(
      expect.objectContaining({ status: 'False', reason: 'ContainersNotReady' }),
    );
    expect(ready(running(true))?.status).toBe('True');
    expect(ready(running())?.status).toBe('True');
  });

  it('a pod finished while a container waited for its restart reports that last run', () => {
    expect(abandonWaiting([restarting], T1)[0]?.state).toEqual(last);
  });
});
