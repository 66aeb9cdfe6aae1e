/**
 * Which operator replica did what, when both run as the same ServiceAccount: each
 * OperatorProcess has a token of its own, and the API server writes the token's id (its JWT
 * `jti`) into every audit event, which the ledger keeps as `credentialId` (ledger.ts). Also
 * the Lease as the API server holds it, polled, so a scenario knows when a holder's claim ran out.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { ClusterClient } from '../../../dev/cluster/cluster.ts';
import type { OperatorProcess } from '../../../dev/cluster/operator.ts';

/** The credential id (`JTI=<jti>`) of the token in an operator process's kubeconfig. */
export function credentialIdOf(operator: OperatorProcess): string {
  const kubeconfig = parse(readFileSync(join(dirname(operator.logPath), 'kubeconfig'), 'utf8')) as {
    users?: { user?: { token?: string } }[];
  };
  const token = kubeconfig.users?.[0]?.user?.token ?? '';
  const payload = token.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti?: string };
  if (claims.jti === undefined) throw new Error(`no jti in the token of ${operator.logPath}`);
  return `JTI=${claims.jti}`;
}

/** The time (ms epoch) of an operator's first log line with message `msg` at or after `fromMs`. */
export function logTime(
  operator: OperatorProcess,
  msg: string,
  fromMs: number,
): number | undefined {
  return operator
    .logLines()
    .map((line) => ({ msg: line.msg, time: Date.parse(String(line.time)) }))
    .find((line) => line.msg === msg && line.time >= fromMs)?.time;
}

/** One observation of the Lease. */
export interface LeaseSeen {
  holder: string;
  /** spec.renewTime, ms epoch. */
  renewMs: number;
  durationMs: number;
}

/** Polls a Lease (as admin, straight to the API server) until stopped; keeps what it saw. */
export class LeaseWatcher {
  readonly seen: LeaseSeen[] = [];
  readonly #client: ClusterClient;
  readonly #lease: { namespace: string; name: string };
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  /** Watches Lease `lease`; nothing is read until a call. */
  constructor(client: ClusterClient, lease: { namespace: string; name: string }) {
    this.#client = client;
    this.#lease = lease;
  }

  /** The current holder, read now. */
  async holder(): Promise<string> {
    return (await this.#read()).holder;
  }

  /** Starts polling every `everyMs`. */
  start(everyMs = 250): void {
    this.#loop ??= (async () => {
      while (!this.#stop.signal.aborted) {
        const seen = await this.#read().catch(() => undefined);
        if (seen !== undefined) this.seen.push(seen);
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
  }

  /** Stops polling. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  /** When `holder`'s claim ran out by the last renewal seen: renewTime + duration, ms epoch. */
  expiryOf(holder: string): number | undefined {
    const last = this.seen.filter((seen) => seen.holder === holder).at(-1);
    return last === undefined ? undefined : last.renewMs + last.durationMs;
  }

  async #read(): Promise<LeaseSeen> {
    const api = this.#client.kubeConfig.makeApiClient(CoordinationV1Api);
    const lease = await api.readNamespacedLease(this.#lease);
    const spec = lease.spec ?? {};
    return {
      holder: spec.holderIdentity ?? '',
      renewMs: spec.renewTime === undefined ? 0 : new Date(spec.renewTime).getTime(),
      durationMs: (spec.leaseDurationSeconds ?? 0) * 1000,
    };
  }
}
