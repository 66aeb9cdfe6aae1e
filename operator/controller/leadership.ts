/**
 * Who acts: with leader election, this replica campaigns for the Lease and runs a term
 * (term.ts) while it leads. Losing the lease (a renew deadline missed: the API server down, a
 * partition, a pause) ends the term — controllers drain, writes are fenced at once — and the
 * replica campaigns again as a warm standby, without exiting: its caches stay, its `/readyz`
 * tells the outage, and a restart loop is never the way back.
 */
import type { Clock } from '../lib/clock.ts';
import type { Log } from '../lib/log.ts';
import type { ApiTransport } from '../lib/kube/api.ts';
import { FencedApi } from './machinery/fence.ts';
import { LeaderElector } from './machinery/leader.ts';
import { KubeLeaseStore } from './machinery/lease.ts';
import type { ControllerMetrics } from './machinery/metrics.ts';

/** What leadership needs of the operator's settings. */
export interface LeadershipSettings {
  log: Log;
  /** Run controllers only while holding the Lease. Default true. */
  leaderElection?: boolean | undefined;
  leaseNamespace?: string | undefined;
  leaseName?: string | undefined;
  identity: string;
}

/** The process-wide parts leadership uses. */
export interface LeadershipContext {
  /** The transport of the caches and controllers; a term's writes go through it, fenced. */
  api: ApiTransport;
  /**
   * The Lease's own transport (its own request budget, as kube-controller-manager's
   * leader-election client), so a renewal never waits behind the controllers. Default `api`.
   */
  leaseApi?: ApiTransport;
  clock: Clock;
  metrics: ControllerMetrics;
  signal: AbortSignal;
}

/** Runs one term of `run` with the API its writes must use and the signal that ends the term. */
export type RunTerm = (leading: AbortSignal, api: ApiTransport) => Promise<void>;

/** Runs terms while this replica leads (one endless term without leader election) until `signal`. */
export async function runLeading(
  settings: LeadershipSettings,
  context: LeadershipContext,
  run: RunTerm,
): Promise<void> {
  if (settings.leaderElection === false) {
    // The only replica leads: tributary_leader says so, or the no-leader alert would fire.
    context.metrics.setLeader(true);
    await run(context.signal, context.api);
    return;
  }
  if (!settings.leaseNamespace)
    throw new Error('leader election needs a lease namespace (--lease-namespace)');
  const stopped = () => context.signal.aborted;
  while (!stopped()) {
    await campaign(settings, context, run);
    if (stopped()) return;
    context.metrics.leadershipLost();
    settings.log.warn(
      { identity: settings.identity },
      'lost the leader lease; controllers stopped, campaigning again',
    );
  }
}

/** One campaign: waits for the Lease, leads until it is lost or `signal` aborts. */
async function campaign(
  settings: LeadershipSettings,
  context: LeadershipContext,
  run: RunTerm,
): Promise<void> {
  const { api, clock, metrics, signal } = context;
  const elector: LeaderElector = new LeaderElector({
    store: new KubeLeaseStore({
      api: context.leaseApi ?? api,
      namespace: settings.leaseNamespace ?? '',
      name: settings.leaseName ?? 'tributary-operator',
    }),
    clock,
    log: settings.log,
    metrics,
    identity: settings.identity,
    onStartedLeading: (leading) => run(leading, new FencedApi(api, () => elector.holdsLease())),
  });
  await elector.start(signal);
}
