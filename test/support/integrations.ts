/** Helpers for tests that drive Integrations through a running operator. */
import {
  BatchV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Job,
} from '@kubernetes/client-node';
import type { Condition, IntegrationStatus } from '../../operator/api/index.ts';
import { JobLabel } from '../../operator/controller/plan/job.ts';
import type { ClusterClient } from '../../dev/cluster/cluster.ts';
import { SCRIPTED_CONNECTOR_IMAGE } from '../../dev/cluster/images.ts';
import { waitFor } from '../../dev/cluster/processes.ts';

const GROUP = 'tributary.dev';
const VERSION = 'v1alpha1';

/** A stored Integration as the tests read it. */
export interface StoredIntegration {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    resourceVersion: string;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status?: IntegrationStatus;
}

/** Typed access to Integrations, their Jobs and conditions. */
export class Integrations {
  readonly #custom: CustomObjectsApi;
  readonly #batch: BatchV1Api;
  readonly namespace: string;

  constructor(client: ClusterClient, namespace: string) {
    this.#custom = client.kubeConfig.makeApiClient(CustomObjectsApi);
    this.#batch = client.kubeConfig.makeApiClient(BatchV1Api);
    this.namespace = namespace;
  }

  /** Creates an Integration run by the scripted connector with `config`, plus `spec` extras. */
  async create(name: string, config: Record<string, unknown>, spec: Record<string, unknown> = {}) {
    await this.#custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: 'integrations',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'Integration',
        metadata: { name },
        spec: { connector: { image: SCRIPTED_CONNECTOR_IMAGE, config }, ...spec },
      },
    });
  }

  /** Creates any object of a Tributary kind (e.g. a ReconcilePolicy). */
  async createObject(plural: string, body: Record<string, unknown>): Promise<void> {
    await this.#custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural,
      body: { apiVersion: `${GROUP}/${VERSION}`, ...body },
    });
  }

  /** Reads an Integration. */
  async get(name: string): Promise<StoredIntegration> {
    return (await this.#custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: 'integrations',
      name,
    })) as StoredIntegration;
  }

  /** Merge-patches an Integration (spec or metadata). */
  async patch(name: string, patch: Record<string, unknown>): Promise<void> {
    await this.#custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: 'integrations',
        name,
        body: patch,
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** The condition `type` of an Integration, if present. */
  async condition(name: string, type: string): Promise<Condition | undefined> {
    return (await this.get(name)).status?.conditions?.find((c) => c.type === type);
  }

  /** Waits until condition `type` has `status` (and `reason`, when given); returns it. */
  waitForCondition(
    name: string,
    type: string,
    status: string,
    reason?: string,
    timeoutMs = 90_000,
  ) {
    return waitFor(
      `${name} ${type}=${status}${reason ? `/${reason}` : ''}`,
      async () => {
        const condition = await this.condition(name, type);
        return condition?.status === status && (reason === undefined || condition.reason === reason)
          ? condition
          : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Run Jobs of an Integration, oldest first. */
  async jobs(name: string): Promise<V1Job[]> {
    const { metadata } = await this.get(name);
    const list = await this.#batch.listNamespacedJob({
      namespace: this.namespace,
      labelSelector: `${JobLabel.IntegrationUID}=${metadata.uid}`,
    });
    return list.items.sort(
      (a, b) =>
        new Date(a.metadata?.creationTimestamp ?? 0).getTime() -
        new Date(b.metadata?.creationTimestamp ?? 0).getTime(),
    );
  }
}
