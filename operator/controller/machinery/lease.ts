/**
 * The leader-election record and the narrow port the elector reads and writes it through, with
 * a `coordination.k8s.io/v1` Lease implementation.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { apiPath, type ApiTransport } from '../../lib/kube/api.ts';
import { isApiStatus } from '../../lib/kube/errors.ts';

/** The election record as stored in a Lease's spec; times in ms epoch. */
export interface LeaseRecord {
  /** Who holds the lease; '' when released. */
  holderIdentity: string;
  /** How long the holder's claim lasts after its last observed change, in seconds. */
  leaseDurationSeconds: number;
  /** When the current holder acquired the lease, ms epoch. */
  acquireTimeMs: number;
  /** When the holder last renewed, ms epoch. */
  renewTimeMs: number;
  /** How many times the holder changed. */
  leaseTransitions: number;
}

/** A record as read, with the resourceVersion that guards the next write. */
export interface VersionedLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** Reads and writes one Lease; writes use optimistic concurrency (409 → {@link ApiError}). */
export interface LeaseStore {
  /** The current lease, or undefined when it does not exist. */
  get(): Promise<VersionedLease | undefined>;
  /** Creates the lease; throws ApiError 409 if it exists. */
  create(record: LeaseRecord): Promise<VersionedLease>;
  /** Replaces the lease if still at `resourceVersion`; throws ApiError 409 otherwise. */
  update(record: LeaseRecord, resourceVersion: string): Promise<VersionedLease>;
}

/** Options of {@link KubeLeaseStore}. */
export interface KubeLeaseStoreOptions {
  /** The authenticated API transport. Required. */
  api: ApiTransport;
  /** Lease namespace. Required. */
  namespace: string;
  /** Lease name. Required. */
  name: string;
  /**
   * Timeout of each Lease call, in ms. Default 10_000: the elector's default renew deadline, so
   * a hung call fails in time for the elector to step down rather than lead on a stale claim.
   */
  timeoutMs?: number;
}

/** A {@link LeaseStore} on a real Lease object. */
export class KubeLeaseStore implements LeaseStore {
  readonly #options: KubeLeaseStoreOptions;

  /** Stores options; nothing is sent until a call. */
  constructor(options: KubeLeaseStoreOptions) {
    this.#options = options;
  }

  /** Reads the Lease; NotFound is undefined. */
  async get(): Promise<VersionedLease | undefined> {
    try {
      return fromLease(await this.#send('GET', this.#path()));
    } catch (err) {
      if (isApiStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** Creates the Lease. */
  async create(record: LeaseRecord): Promise<VersionedLease> {
    const { name, namespace } = this.#options;
    const collection = apiPath`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
    return fromLease(await this.#send('POST', collection, toLease(name, namespace, record)));
  }

  /** Replaces the Lease at `resourceVersion`. */
  async update(record: LeaseRecord, resourceVersion: string): Promise<VersionedLease> {
    const { name, namespace } = this.#options;
    const body = toLease(name, namespace, record, resourceVersion);
    return fromLease(await this.#send('PUT', this.#path(), body));
  }

  #path(): string {
    const { name, namespace } = this.#options;
    return apiPath`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`;
  }

  #send(method: 'GET' | 'POST' | 'PUT', path: string, body?: V1Lease): Promise<V1Lease> {
    return this.#options.api.request<V1Lease>({
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: this.#options.timeoutMs ?? 10_000,
    });
  }
}

/**
 * A Date that serializes as a Kubernetes MicroTime (six fractional digits): `JSON.stringify` of a
 * plain Date gives a millisecond ISO string, which the API rejects for MicroTime fields.
 */
export class MicroTime extends Date {
  /** ISO 8601 with microseconds, e.g. `2025-01-01T00:00:00.123000Z`. */
  override toJSON(): string {
    return this.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}

/** A MicroTime arrives as a JSON string despite client-node's `Date` type; 0 when absent or bad. */
export function microTimeMs(value: Date | string | undefined): number {
  if (value === undefined) return 0;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? 0 : ms;
}

function toLease(
  name: string,
  namespace: string,
  record: LeaseRecord,
  resourceVersion?: string,
): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: new MicroTime(record.acquireTimeMs),
      renewTime: new MicroTime(record.renewTimeMs),
      leaseTransitions: record.leaseTransitions,
    },
  };
}

function fromLease(lease: V1Lease): VersionedLease {
  const spec = lease.spec ?? {};
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTimeMs: microTimeMs(spec.acquireTime),
      renewTimeMs: microTimeMs(spec.renewTime),
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}
