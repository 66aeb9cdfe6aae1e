/**
 * Writes fenced by the leader lease: a replica acts only while its own clock says its claim is
 * fresh. After a pause (SIGSTOP, a long GC, a frozen VM) or a partition, the first thing the
 * process does must not be a write on a lease another replica may hold by now: every mutating
 * call checks first and fails with a retryable {@link ApiError} (reason `NotLeader`) instead.
 * Reads and watches pass (the warm standby's caches stay current).
 */
import type { ApiRequest, ApiTransport } from '../../lib/kube/api.ts';
import { ApiError } from '../../lib/kube/errors.ts';

/** The Kubernetes-style reason of a write refused by the fence. */
export const NOT_LEADER = 'NotLeader';

/** An {@link ApiTransport} whose writes pass only while `holdsLease()` is true. */
export class FencedApi implements ApiTransport {
  readonly #inner: ApiTransport;
  readonly #holdsLease: () => boolean;

  /** Wraps `inner`; `holdsLease` is asked before every POST, PUT, PATCH and DELETE. */
  constructor(inner: ApiTransport, holdsLease: () => boolean) {
    this.#inner = inner;
    this.#holdsLease = holdsLease;
  }

  /**
   * Asks twice: now, and again as the last step before the request leaves the process (its
   * `gate`), so a pause that lands while credentials are read or a connection is picked cannot
   * let a write go out on a lease lost meanwhile. (A pause in the few microseconds after the gate
   * still can; the deterministic Job name is the lock behind that.)
   */
  request<T>(request: ApiRequest): Promise<T> {
    const method = request.method ?? 'GET';
    if (method === 'GET') return this.#inner.request(request);
    const refusal = () =>
      new ApiError(
        0,
        `${method} ${request.path} not sent: this replica no longer holds the leader lease`,
        NOT_LEADER,
      );
    if (!this.#holdsLease()) return Promise.reject(refusal());
    const gate = () => {
      request.gate?.();
      if (!this.#holdsLease()) throw refusal();
    };
    return this.#inner.request({ ...request, gate });
  }

  stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    return this.#inner.stream(request);
  }
}
