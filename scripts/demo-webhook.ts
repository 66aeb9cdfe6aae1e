/**
 * The demo's webhook-driven Integration: `carrier-tickets` polls the generic API's tickets and
 * takes their Standard Webhooks deliveries through a real intake (`tributary intake`, as its
 * ServiceAccount). A simulated sender changes a ticket at the source and posts the change; the
 * intake verifies and stores it, its workers write it to the destination, seconds before the
 * next sync. The view shows status.webhook (what the operator read from the intake's /stats) and
 * how many of the posted changes the destination holds at their new version.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { IntegrationStatus } from '../operator/api/index.ts';
import type { Cluster } from '../dev/cluster/cluster.ts';
import { IntakeProcess } from '../dev/cluster/intake.ts';
import { WebhookSender, type RunningSimulators } from '../dev/simulators/index.ts';

/** The webhook Integration's name, the generic resource it syncs and its destination collection. */
export const WEBHOOK_INTEGRATION = 'carrier-tickets';
const RESOURCE = 'tickets';
/** A Standard Webhooks signing secret (whsec_ + base64), for the demo only. */
const SIGNING_SECRET = 'whsec_ZGVtby10aWNrZXRzLXNpZ25pbmctc2VjcmV0';

/** The Secret the Integration names: the source token and the signing secret. */
export const webhookSecret = {
  'carrier-webhooks': { token: 'generic-token', whsec: SIGNING_SECRET },
};

/** The Integration (name and spec) for `applyIntegrations`. */
export function webhookIntegration(simulators: RunningSimulators) {
  const sims = simulators.describe();
  return {
    name: WEBHOOK_INTEGRATION,
    source: {
      provider: 'http',
      baseURL: sims.generic?.url,
      credentialsRef: { name: 'carrier-webhooks', key: 'token' },
      http: {
        path: `/v1/${RESOURCE}`,
        recordsPath: 'data',
        pagination: { type: 'cursor', cursorPath: 'next_cursor', cursorParam: 'cursor' },
        updatedField: 'updated_at',
        auth: { type: 'bearer' },
      },
    },
    destination: { url: `${sims.destination?.url ?? ''}/${RESOURCE}/{id}`, method: 'PUT' },
    webhook: {
      scheme: 'standard',
      secretRefs: [{ name: 'carrier-webhooks', key: 'whsec' }],
      mode: 'payload',
      eventTypes: ['ticket.updated'],
    },
  };
}

/** The webhook Integration's status; undefined when it cannot be read. */
async function status(cluster: Cluster, namespace: string): Promise<IntegrationStatus | undefined> {
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const object = (await custom
    .getNamespacedCustomObject({
      group: 'tributary.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'integrations',
      name: WEBHOOK_INTEGRATION,
    })
    .catch(() => ({}))) as { status?: IntegrationStatus };
  return object.status;
}

/** A change posted: which record, at which version, and what the intake answered. */
interface Change {
  id: string;
  version: number;
  status: number | string;
}

/** The intake and a sender posting ticket changes to it. */
export class DemoWebhooks {
  readonly intake: IntakeProcess;
  readonly #simulators: RunningSimulators;
  readonly #sender: WebhookSender;
  readonly #changes: Change[] = [];
  #next = 0;

  private constructor(intake: IntakeProcess, simulators: RunningSimulators, namespace: string) {
    this.intake = intake;
    this.#simulators = simulators;
    this.#sender = new WebhookSender({
      scheme: 'standard',
      url: intake.hookURL(namespace, WEBHOOK_INTEGRATION),
      secrets: [SIGNING_SECRET],
      // Svix's retry schedule, an hour becoming 6 s.
      timeScale: 1 / 600,
      maxAttempts: 5,
    });
  }

  /** Starts an intake as its ServiceAccount (the operator's RBAC must be installed). */
  static async start(
    cluster: Cluster,
    simulators: RunningSimulators,
    namespace: string,
  ): Promise<DemoWebhooks> {
    return new DemoWebhooks(await IntakeProcess.start(cluster), simulators, namespace);
  }

  /** The generic tickets resource the simulators must serve. */
  static readonly resource = RESOURCE;

  /** Changes the next `count` tickets at the source and posts each change as a webhook. */
  async post(count: number): Promise<void> {
    const dataset = this.#simulators.generic?.dataset(RESOURCE);
    if (dataset === undefined) throw new Error(`the generic simulator serves no ${RESOURCE}`);
    for (let i = 0; i < count; i += 1) {
      const index = this.#next++ % dataset.size;
      dataset.update([index], Math.floor(Date.now() / 1000));
      const record = dataset.record(index);
      const delivery = await this.#sender.send({ type: 'ticket.updated', object: record });
      this.#changes.push({
        id: String(record.id),
        version: Number(record.version),
        status: delivery.attempts.at(-1)?.status ?? 'not sent',
      });
    }
  }

  /** How many posted changes the destination holds at (or past) their posted version. */
  delivered(): { posted: number; atDestination: number } {
    const destination = this.#simulators.destination;
    const atDestination = this.#changes.filter(
      (change) => Number(destination?.get(RESOURCE, change.id)?.version ?? 0) >= change.version,
    ).length;
    return { posted: this.#changes.length, atDestination };
  }

  /**
   * Waits until every posted change is at the destination and status.webhook counts them as
   * accepted (the operator reads the intake every 15 s); false at `deadline`.
   */
  async waitDelivered(cluster: Cluster, namespace: string, deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      const { posted, atDestination } = this.delivered();
      const accepted = (await status(cluster, namespace))?.webhook?.accepted ?? 0;
      if (atDestination === posted && accepted >= posted) return true;
      await sleep(1000);
    }
    return false;
  }

  /** The view's webhook lines: status.webhook as the operator wrote it, and the destination. */
  async view(cluster: Cluster, namespace: string): Promise<string> {
    const current = await status(cluster, namespace);
    const hook = current?.webhook;
    const counts =
      hook === undefined
        ? 'not read from the intake yet'
        : `accepted ${hook.accepted}, duplicate ${hook.duplicate}, rejected ${hook.rejected}, ` +
          `pending ${hook.pending}, dead-lettered ${hook.deadLettered}, ` +
          `last event ${hook.lastEventTime ?? 'none'}`;
    const { posted, atDestination } = this.delivered();
    const last = this.#changes.at(-1);
    return [
      `webhook ${namespace}/${WEBHOOK_INTEGRATION} (${this.intake.hookURL(namespace, WEBHOOK_INTEGRATION)}):`,
      `  status.webhook: ${counts}`,
      `  posted ${posted} changes` +
        (last === undefined ? '' : ` (last: ticket ${last.id} v${last.version}, ${last.status})`) +
        `; ${atDestination} of them at the destination at their new version` +
        (current?.lastSync?.completionTime === undefined
          ? ''
          : `; last sync ${current.lastSync.completionTime}`),
    ].join('\n');
  }

  /** Stops the sender and the intake. */
  async stop(): Promise<void> {
    this.#sender.close();
    await this.intake.stop();
  }
}
