/**
 * Whether the API server answers. Every call of the operator goes through
 * {@link ReachabilityApi}, which notes when calls stop getting an answer (refused, reset, timed
 * out, 5xx but 501) and when one comes back. `/readyz` fails while the API server has not
 * answered for `unreachableAfterMs`, and the first answer after an outage wakes everything that
 * waits out a backoff (informers, failed keys): the operator catches up at once instead of up to
 * a full backoff (30 s for an informer, minutes for a key) after the server is back.
 */
import type { Clock } from '../../lib/clock.ts';
import type { ApiRequest, ApiTransport } from '../../lib/kube/api.ts';
import { ApiError } from '../../lib/kube/errors.ts';
import { NOT_LEADER } from './fence.ts';

/** Default of {@link Reachability}'s threshold: a blip shorter than this is not an outage. */
export const DEFAULT_UNREACHABLE_AFTER_MS = 5_000;

/** True for a failure that means the API server did not answer (or answered that it cannot). */
export function isUnanswered(error: unknown): boolean {
  if (error instanceof ApiError && error.reason === NOT_LEADER) return false; // never sent
  return (
    error instanceof ApiError &&
    (error.status === 0 || (error.status >= 500 && error.status !== 501))
  );
}

/** The API server's reachability as this process saw it, and who to tell when it answers again. */
export class Reachability {
  readonly #clock: Clock;
  readonly #unreachableAfterMs: number;
  readonly #listeners: ((outageMs: number) => void)[] = [];
  readonly #unreachableListeners: ((firstFailure: string) => void)[] = [];
  #failingSinceMs: number | undefined;
  #firstFailure = '';
  #told = false;

  /** `unreachableAfterMs`: how long calls must go unanswered before {@link isReachable} is false. */
  constructor(clock: Clock, unreachableAfterMs = DEFAULT_UNREACHABLE_AFTER_MS) {
    this.#clock = clock;
    this.#unreachableAfterMs = unreachableAfterMs;
  }

  /** A call got no answer; `what` names it (method, path, error) for {@link firstFailure}. */
  failed(what = ''): void {
    if (this.#failingSinceMs !== undefined) return;
    this.#failingSinceMs = this.#clock.now();
    this.#firstFailure = what;
  }

  /** The call that began the current outage, e.g. `GET /api/v1/pods: connect ECONNREFUSED`. */
  get firstFailure(): string {
    return this.#failingSinceMs === undefined ? '' : this.#firstFailure;
  }

  /** A call got an answer (anything but a 5xx); ends an outage and tells the listeners. */
  answered(): void {
    if (this.#failingSinceMs === undefined) return;
    const outageMs = this.#clock.now() - this.#failingSinceMs;
    this.#failingSinceMs = undefined;
    this.#told = false;
    for (const listener of this.#listeners) listener(outageMs);
  }

  /** False once calls have gone unanswered for `unreachableAfterMs` or longer. */
  isReachable(): boolean {
    if (this.#failingSinceMs === undefined) return true;
    const reachable = this.#clock.now() - this.#failingSinceMs < this.#unreachableAfterMs;
    if (!reachable && !this.#told) {
      this.#told = true;
      for (const listener of this.#unreachableListeners) listener(this.#firstFailure);
    }
    return reachable;
  }

  /** Calls `listener` once per outage, when {@link isReachable} first finds it unreachable. */
  onUnreachable(listener: (firstFailure: string) => void): void {
    this.#unreachableListeners.push(listener);
  }

  /** Calls `listener` with the outage's length each time the API server answers after failing. */
  onAnswerAfterFailure(listener: (outageMs: number) => void): void {
    this.#listeners.push(listener);
  }
}

/** An {@link ApiTransport} that reports each call's answer (or its absence) to a {@link Reachability}. */
export class ReachabilityApi implements ApiTransport {
  readonly #inner: ApiTransport;
  readonly #reachability: Reachability;

  /** Wraps `inner`; its calls are observed, not changed. */
  constructor(inner: ApiTransport, reachability: Reachability) {
    this.#inner = inner;
    this.#reachability = reachability;
  }

  async request<T>(request: ApiRequest): Promise<T> {
    try {
      const answer = await this.#inner.request<T>(request);
      this.#reachability.answered();
      return answer;
    } catch (error) {
      this.#observe(error, request);
      throw error;
    }
  }

  /** Only the opening is observed: a stream that breaks later (a watch) is retried by its reader. */
  async stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    try {
      const body = await this.#inner.stream(request);
      this.#reachability.answered();
      return body;
    } catch (error) {
      this.#observe(error, request);
      throw error;
    }
  }

  #observe(error: unknown, request: ApiRequest): void {
    if (request.signal?.aborted === true) return; // the caller gave up: no news of the server
    if (isUnanswered(error)) this.#reachability.failed((error as Error).message);
    else this.#reachability.answered();
  }
}
