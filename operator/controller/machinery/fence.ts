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

  request<T>(request: ApiRequest): Promise<T> {
    const method = request.method ?? 'GET';
    if (method !== 'GET' && !this.#holdsLease()) {
      const message = `${method} ${request.path} not sent: this replica no longer holds the leader lease`;
      return Promise.reject(new ApiError(0, message, NOT_LEADER));
    }
    return this.#inner.request(request);
  }

  stream(request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    return this.#inner.stream(request);
  }
}
