/**
 * Two (or more) operator replicas out of process, as the installed Deployment runs them, with a
 * supervisor's view: who holds the Lease, kill or stop the leader, replace what died (as a
 * kubelet restarts a container), and whether any replica exited on its own.
 */
import { CoordinationV1Api } from '@kubernetes/client-node';
import { OPERATOR_NAMESPACE } from '../../../manifests/src/app.ts';
import type { ClusterClient } from '../../../dev/cluster/cluster.ts';
import { OperatorProcess, type OperatorProcessOptions } from '../../../dev/cluster/operator.ts';
import { waitFor } from '../../../dev/cluster/processes.ts';

/** A replica and its identity in the Lease. */
export interface Replica {
  identity: string;
  process: OperatorProcess;
  /** Set when the harness killed or stopped it (an exit on its own is a crash). */
  endedByHarness: boolean;
}

/** The replicas of one scenario. */
export class Replicas {
  readonly all: Replica[] = [];
  readonly #client: ClusterClient;
  readonly #options: OperatorProcessOptions;
  readonly #coordination: CoordinationV1Api;
  #next = 0;

  readonly #prefix: string;

  /** Replicas named `<prefix>-<n>`, started with `options`. */
  constructor(client: ClusterClient, prefix: string, options: OperatorProcessOptions = {}) {
    this.#client = client;
    this.#prefix = prefix;
    this.#options = options;
    this.#coordination = client.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /** Starts one more replica. */
  async start(): Promise<Replica> {
    const identity = `${this.#prefix}-${String(this.#next++)}`;
    const process = await OperatorProcess.start(this.#client, { ...this.#options, identity });
    const replica = { identity, process, endedByHarness: false };
    this.all.push(replica);
    return replica;
  }

  /** The replicas still running. */
  running(): Replica[] {
    return this.all.filter((replica) => replica.process.running);
  }

  /** Replicas that exited without the harness ending them, and not by injected crash points. */
  crashed(allowInjected = false): Replica[] {
    return this.all.filter(
      (replica) =>
        !replica.process.running &&
        !replica.endedByHarness &&
        !(allowInjected && injectedCrash(replica.process)),
    );
  }

  /** The Lease holder's identity ('' when released or absent). */
  async holder(): Promise<string> {
    const lease = await this.#coordination
      .readNamespacedLease({ name: 'tributary-operator', namespace: OPERATOR_NAMESPACE })
      .catch(() => undefined);
    return lease?.spec?.holderIdentity ?? '';
  }

  /** Waits for a running replica other than `not` to hold the Lease; returns it. */
  async leader(not?: string, timeoutMs = 60_000): Promise<Replica> {
    return waitFor(
      'a leader',
      async () => {
        const holder = await this.holder();
        const replica = this.running().find((r) => r.identity === holder);
        return replica !== undefined && replica.identity !== not ? replica : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Ends `replica` (SIGKILL, or SIGTERM when `graceful`). */
  async end(replica: Replica, graceful: boolean): Promise<void> {
    replica.endedByHarness = true;
    await (graceful ? replica.process.stop() : replica.process.kill());
  }

  /** Starts replicas until `count` run (a dead one replaced as a kubelet would). */
  async topUp(count = 2): Promise<void> {
    while (this.running().length < count) await this.start();
  }

  /** Stops every replica. */
  async stopAll(): Promise<void> {
    await Promise.all(this.running().map((replica) => this.end(replica, true)));
  }

  /** Every replica's log file, for the leak scan. */
  logPaths(): string[] {
    return this.all.map((replica) => replica.process.logPath);
  }
}

function injectedCrash(process: OperatorProcess): boolean {
  return process
    .logLines()
    .some((line) => typeof line.msg === 'string' && line.msg.startsWith('fault injection:'));
}
