/**
 * The kubelet's prober for the process node: startup, readiness and liveness probes of the
 * `httpGet`, `tcpSocket` and `exec` kinds, run against the pod IP on the probe's period, with
 * the success and failure thresholds. The decisions (settings, target, thresholds) are pure;
 * {@link Prober} runs them on timers.
 */
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

/** Which probe: a startup probe gates the other two; liveness failures restart the container. */
export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/** A probe's timing and thresholds with the API's defaults applied, in milliseconds. */
export interface ProbeSettings {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The API defaults: delay 0 s, period 10 s, timeout 1 s, success 1, failure 3. */
export function probeSettings(probe: V1Probe): ProbeSettings {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, probe.timeoutSeconds ?? 1) * 1000,
    successThreshold: Math.max(1, probe.successThreshold ?? 1),
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
  };
}

/** What one probe attempt does. */
export type ProbeAction =
  | { kind: 'http'; url: string; headers: Record<string, string> }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'exec'; argv: string[] }
  | { kind: 'unsupported'; message: string };

/**
 * The probe's action against `podIP`: a named port is looked up in the container's `ports`;
 * `httpGet.host` (default the pod IP), scheme, path and headers are kept. An unknown port name
 * or a `grpc` probe is `unsupported` (the probe then fails with that message).
 */
export function probeAction(container: V1Container, probe: V1Probe, podIP: string): ProbeAction {
  const port = (value: number | string | undefined): number | undefined => {
    if (typeof value === 'number') return value;
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
    return container.ports?.find((p) => p.name === value)?.containerPort;
  };
  if (probe.httpGet) {
    const { host, scheme, path, httpHeaders } = probe.httpGet;
    const number = port(probe.httpGet.port);
    if (number === undefined)
      return { kind: 'unsupported', message: `unknown port ${String(probe.httpGet.port)}` };
    const base = `${(scheme ?? 'HTTP').toLowerCase()}://${host ?? podIP}:${number}`;
    const headers = Object.fromEntries((httpHeaders ?? []).map((h) => [h.name, h.value]));
    return { kind: 'http', url: new URL(path ?? '/', base).toString(), headers };
  }
  if (probe.tcpSocket) {
    const number = port(probe.tcpSocket.port);
    if (number === undefined)
      return { kind: 'unsupported', message: `unknown port ${String(probe.tcpSocket.port)}` };
    return { kind: 'tcp', host: probe.tcpSocket.host ?? podIP, port: number };
  }
  if (probe.exec?.command && probe.exec.command.length > 0)
    return { kind: 'exec', argv: probe.exec.command };
  return { kind: 'unsupported', message: 'this probe kind is not supported by the process node' };
}

/** A probe's current result and its run of equal outcomes. */
export interface ProbeState {
  /** Readiness: ready; liveness: alive; startup: started. */
  passing: boolean;
  successes: number;
  failures: number;
}

/** Before any attempt: a container is alive, not yet ready, not yet started. */
export function initialProbeState(kind: ProbeKind): ProbeState {
  return { passing: kind === 'liveness', successes: 0, failures: 0 };
}

/** The state after one attempt: the result flips after `successThreshold`/`failureThreshold`. */
export function recordProbe(state: ProbeState, ok: boolean, settings: ProbeSettings): ProbeState {
  const successes = ok ? state.successes + 1 : 0;
  const failures = ok ? 0 : state.failures + 1;
  let passing = state.passing;
  if (ok && successes >= settings.successThreshold) passing = true;
  if (!ok && failures >= settings.failureThreshold) passing = false;
  return { passing, successes, failures };
}

/** One attempt's outcome; `message` says why it failed. */
export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

/** Runs one attempt: HTTP 200–399, a TCP connect, or exit code 0, within `timeoutMs`. */
export function runProbe(
  action: ProbeAction,
  timeoutMs: number,
  exec: { env: Record<string, string>; cwd: string },
): Promise<ProbeOutcome> {
  switch (action.kind) {
    case 'http':
      return httpProbe(action.url, action.headers, timeoutMs);
    case 'tcp':
      return tcpProbe(action.host, action.port, timeoutMs);
    case 'exec':
      return execProbe(action.argv, timeoutMs, exec);
    case 'unsupported':
      return Promise.resolve({ ok: false, message: action.message });
  }
}

function httpProbe(url: string, headers: Record<string, string>, timeoutMs: number) {
  return new Promise<ProbeOutcome>((resolve) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const options = { headers, timeout: timeoutMs, rejectUnauthorized: false };
    const req = request(url, options, (response) => {
      response.resume();
      const code = response.statusCode ?? 0;
      const ok = code >= 200 && code < 400;
      resolve({ ok, message: ok ? '' : `HTTP probe failed with statuscode: ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (error) => {
      resolve({ ok: false, message: `Get "${url}": ${error.message}` });
    });
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number) {
  return new Promise<ProbeOutcome>((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.once('timeout', () => socket.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    socket.once('error', (error) => {
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${error.message}` });
    });
  });
}

function execProbe(
  argv: string[],
  timeoutMs: number,
  { env, cwd }: { env: Record<string, string>; cwd: string },
) {
  return new Promise<ProbeOutcome>((resolve) => {
    const [command = '', ...args] = argv;
    execFile(command, args, { env, cwd, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ ok: error === null, message: error === null ? '' : `${stdout}${stderr}`.trim() });
    });
  });
}

/** Callbacks of a {@link Prober}. */
export interface ProberHandlers {
  /** The result flipped (ready / not ready, started, alive / dead). */
  changed: (passing: boolean, message: string) => void;
}

/** Runs one probe of one container on its period until `stop()`. */
export class Prober {
  readonly kind: ProbeKind;
  readonly #settings: ProbeSettings;
  readonly #attempt: () => Promise<ProbeOutcome>;
  readonly #handlers: ProberHandlers;
  #state: ProbeState;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** Does nothing until `start()`. */
  constructor(
    kind: ProbeKind,
    probe: V1Probe,
    attempt: (timeoutMs: number) => Promise<ProbeOutcome>,
    handlers: ProberHandlers,
  ) {
    this.kind = kind;
    this.#settings = probeSettings(probe);
    this.#attempt = () => attempt(this.#settings.timeoutMs);
    this.#handlers = handlers;
    this.#state = initialProbeState(kind);
  }

  /** The current result. */
  get passing(): boolean {
    return this.#state.passing;
  }

  /** First attempt after `initialDelaySeconds`, then one per `periodSeconds`. */
  start(): void {
    this.#schedule(this.#settings.initialDelayMs);
  }

  /** No further attempts; an attempt in flight is ignored. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.#run();
    }, delayMs);
  }

  async #run(): Promise<void> {
    const outcome = await this.#attempt();
    if (this.#stopped) return;
    const before = this.#state.passing;
    this.#state = recordProbe(this.#state, outcome.ok, this.#settings);
    if (this.#state.passing !== before)
      this.#handlers.changed(this.#state.passing, outcome.message);
    this.#schedule(this.#settings.periodMs);
  }
}
