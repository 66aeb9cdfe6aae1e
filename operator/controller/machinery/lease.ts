/**
 * The leader-election record and the narrow port the elector reads and writes it through, with
 * a `coordination.k8s.io/v1` Lease implementation.
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { isApiStatus, toApiError } from './errors.ts';

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
  /** Credentials. Required. */
  kubeConfig: KubeConfig;
  /** Lease namespace. Required. */
  namespace: string;
  /** Lease name. Required. */
  name: string;
}

/** A {@link LeaseStore} on a real Lease object. */
export class KubeLeaseStore implements LeaseStore {
  readonly #options: KubeLeaseStoreOptions;
  #api: CoordinationV1Api | undefined;

  /** Stores options; the API client is made on first use. */
  constructor(options: KubeLeaseStoreOptions) {
    this.#options = options;
  }

  /** Reads the Lease; NotFound is undefined. */
  async get(): Promise<VersionedLease | undefined> {
    const { name, namespace } = this.#options;
    try {
      return fromLease(await this.#client().readNamespacedLease({ name, namespace }));
    } catch (err) {
      const converted = toApiError(err);
      if (isApiStatus(converted, 404)) return undefined;
      throw converted;
    }
  }

  /** Creates the Lease. */
  async create(record: LeaseRecord): Promise<VersionedLease> {
    const { name, namespace } = this.#options;
    try {
      return fromLease(
        await this.#client().createNamespacedLease({
          namespace,
          body: toLease(name, namespace, record),
        }),
      );
    } catch (err) {
      throw toApiError(err);
    }
  }

  /** Replaces the Lease at `resourceVersion`. */
  async update(record: LeaseRecord, resourceVersion: string): Promise<VersionedLease> {
    const { name, namespace } = this.#options;
    const body = toLease(name, namespace, record, resourceVersion);
    try {
      return fromLease(await this.#client().replaceNamespacedLease({ name, namespace, body }));
    } catch (err) {
      throw toApiError(err);
    }
  }

  #client(): CoordinationV1Api {
    this.#api ??= this.#options.kubeConfig.makeApiClient(CoordinationV1Api);
    return this.#api;
  }
}

/**
 * A Date that serializes as a Kubernetes MicroTime (six fractional digits): client-node 2.x sends
 * `V1MicroTime` through `JSON.stringify` as a millisecond ISO string, which the API rejects.
 */
export class MicroTime extends Date {
  /** ISO 8601 with microseconds, e.g. `2025-01-01T00:00:00.123000Z`. */
  override toJSON(): string {
    return this.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}

/** client-node 2.x does not deserialize MicroTime, so it arrives as a string despite its type. */
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
