/**
 * `tributary operator`: wires the caches (watches.ts), work queues, the Integration and
 * ReconcilePolicy controllers, leader election and the health/metrics server, and runs them until
 * stopped. Informers run on every replica (warm standby); controllers only on the leader, one term
 * (term.ts) per leadership won (leadership.ts).
 */
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerBuildInfo } from '../lib/build-info.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { Log } from '../lib/log.ts';
import { type ApiTransport, KubeApi } from '../lib/kube/api.ts';
import { RateLimiter } from '../lib/ratelimit.ts';
import { HealthServer } from '../lib/health-server.ts';
import { ControllerMetrics } from './machinery/metrics.ts';
import type { FaultSettings } from './integration/faults.ts';
import { IntegrationMetrics } from './integration/metrics.ts';
import { IntakeStatsPoller } from './intake-stats.ts';
import { runLeading } from './leadership.ts';
import {
  DEFAULT_UNREACHABLE_AFTER_MS,
  Reachability,
  ReachabilityApi,
} from './machinery/reachability.ts';
import { runTerm, TermQueues } from './term.ts';
import { type Caches, enqueueOnChange, type Queues, watchCaches } from './watches.ts';

/**
 * Default sustained requests per second to the API server: Flux's controllers' 50 (kube-controller-manager's
 * 20 would slow a busy operator that creates a Job, writes status and records Events per run).
 */
export const DEFAULT_KUBE_API_QPS = 50;
/** Default requests to the API server at once after idling: Flux's 300 (a new leader's catch-up). */
export const DEFAULT_KUBE_API_BURST = 300;

/** Options of {@link runOperator}. */
export interface OperatorOptions {
  kubeConfig: KubeConfig;
  log: Log;
  /** Image of the built-in connector, used for sync Jobs: this operator's own image. */
  image: string;
  /** Watch these namespaces only. Default (undefined or empty): all namespaces. */
  namespaces?: readonly string[] | undefined;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. Default 8080. */
  metricsPort?: number;
  /** Run controllers only while holding the Lease. Default true. */
  leaderElection?: boolean;
  /** Namespace of the Lease. Required with leader election. */
  leaseNamespace?: string | undefined;
  /** Name of the Lease. Default `tributary-operator`. */
  leaseName?: string;
  /** This replica's identity in the Lease. Default: hostname + random suffix. */
  identity?: string | undefined;
  /** Concurrent Integration reconciles. Default 4. */
  workers?: number;
  /**
   * The client request budget: sustained requests per second to the API server, over lists,
   * reads and writes (a watch is not counted). Default {@link DEFAULT_KUBE_API_QPS}.
   */
  kubeApiQps?: number;
  /** Requests to the API server at once after idling. Default {@link DEFAULT_KUBE_API_BURST}. */
  kubeApiBurst?: number;
  clock?: Clock;
  /**
   * Base URLs of the webhook intake's replicas (out-of-cluster runs). Default: the ready intake
   * pods in `leaseNamespace`, found by label.
   */
  intakeURLs?: readonly string[] | undefined;
  /** How late a webhook delivery may be before a sync counts its change as missed. Default 2m. */
  webhookGrace?: string | undefined;
  /** Test-only fault injection (TRIBUTARY_FAULT_INJECTION): crash points (integration/faults.ts). */
  faults?: FaultSettings;
}

/** Runs the operator until `signal` aborts, then shuts down gracefully (releasing the Lease). */
export async function runOperator(given: OperatorOptions, signal: AbortSignal): Promise<void> {
  // One identity for the Lease and the Events' reportingInstance.
  const options = { ...given, identity: given.identity ?? defaultIdentity() };
  const { log } = options;
  const clock = options.clock ?? systemClock();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry);
  const metrics = new ControllerMetrics({ registry });
  const reachability = new Reachability(clock);
  const { api, leaseApi } = apiClients(options, { clock, metrics, reachability });
  const namespaces = options.namespaces ?? [];
  const caches = watchCaches({ api, log, clock, metrics, namespaces });
  const queues = new TermQueues(TermQueues.factory(clock, metrics));
  enqueueOnChange(caches, queues);
  catchUpAfterOutages(reachability, caches, queues, log);
  reachability.onUnreachable(() => {
    metrics.apiServerOutage();
  });
  const intake = new IntakeStatsPoller({
    api,
    clock,
    log,
    namespace: options.leaseNamespace,
    urls: options.intakeURLs,
    onChange: (keys) => {
      for (const key of keys) queues.integrations.add(key);
    },
  });
  const integrationMetrics = new IntegrationMetrics(registry);
  const server = await startHealthServer(
    registry,
    caches,
    reachability,
    options.metricsPort ?? 8080,
  );
  const watched = namespaces.length > 0 ? namespaces : '(all)';
  log.info({ port: server.port, namespaces: watched }, 'operator starting');
  const informersDone = Object.values(caches).map((cache) => cache.start(signal));
  const intakePolled = intake.run(signal);
  try {
    await runLeading(
      options,
      { api, leaseApi, clock, metrics, signal },
      async (leading, fenced) => {
        const wiring = { api: fenced, caches, queues: queues.begin(), clock, log, metrics };
        await runTerm(options, { ...wiring, integrationMetrics, intake }, leading);
      },
    );
  } finally {
    await Promise.all(Object.values(caches).map((cache) => cache.stop()));
    await Promise.allSettled([...informersDone, intakePolled]);
    await server.stop();
    log.info('operator stopped');
  }
}

/**
 * The transports to the API server, each under the client request budget: one for the caches and
 * the controllers, and one of its own for the Lease, as kube-controller-manager gives leader
 * election its own client, so a renewal never waits behind a burst of the controllers' writes.
 */
function apiClients(
  options: OperatorOptions & { identity: string },
  wiring: { clock: Clock; metrics: ControllerMetrics; reachability: Reachability },
): { api: ApiTransport; leaseApi: ApiTransport } {
  const { clock, metrics, reachability } = wiring;
  const client = () =>
    new KubeApi({
      kubeConfig: options.kubeConfig,
      // Which replica sent what, in the API server's audit log.
      userAgent: `tributary-operator (${options.identity})`,
      rateLimiter: new RateLimiter({
        qps: options.kubeApiQps ?? DEFAULT_KUBE_API_QPS,
        burst: options.kubeApiBurst ?? DEFAULT_KUBE_API_BURST,
        clock,
      }),
      onRateLimiterWait: throttledLog(options.log, clock, metrics),
    });
  return {
    api: new ReachabilityApi(client(), reachability),
    leaseApi: new ReachabilityApi(client(), reachability),
  };
}

/**
 * Records each wait for the request budget, and logs a wait over a second at most every 10 s
 * (client-go's throttled "Waited before sending request"): the budget, not the API server's
 * priority and fairness, is what holds the operator back.
 */
function throttledLog(log: Log, clock: Clock, metrics: ControllerMetrics) {
  let loggedAtMs = Number.NEGATIVE_INFINITY;
  return (verb: string, host: string, seconds: number): void => {
    metrics.rateLimiterWait(verb, host, seconds);
    if (seconds <= 1 || clock.now() - loggedAtMs < 10_000) return;
    loggedAtMs = clock.now();
    log.info(
      { verb, seconds, reason: 'client-side throttling, not priority and fairness' },
      'waited before sending a request to the API server (--kube-api-qps, --kube-api-burst)',
    );
  };
}

/**
 * The first answer after an outage: informers in backoff retry now, and so does every key that
 * waits out a failure's backoff, so status catches up on the informers' relist instead of up to
 * a full backoff later.
 */
function catchUpAfterOutages(
  reachability: Reachability,
  caches: Caches,
  queues: Queues,
  log: Log,
): void {
  reachability.onUnreachable((firstFailure) => {
    log.warn({ firstFailure }, 'API server not answering; /readyz fails until it does');
  });
  reachability.onAnswerAfterFailure((outageMs) => {
    for (const cache of Object.values(caches)) cache.wake();
    const keys = queues.integrations.retryNow() + queues.policies.retryNow();
    if (outageMs >= DEFAULT_UNREACHABLE_AFTER_MS)
      log.warn({ outageMs, keys }, 'API server answers again after an outage; retrying at once');
  });
}

/**
 * Serves /healthz, /metrics and /readyz, ready while every cache is synced and healthy and the
 * API server answers.
 */
async function startHealthServer(
  registry: Registry,
  caches: Caches,
  reachability: Reachability,
  port: number,
): Promise<HealthServer> {
  const server = new HealthServer({ registry, port });
  server.addReadinessCheck('apiserver', () => reachability.isReachable());
  for (const [name, cache] of Object.entries(caches))
    server.addReadinessCheck(`informer/${name}`, () => cache.hasSynced() && cache.isHealthy());
  await server.start();
  return server;
}

/** This replica's identity when none is given: the hostname plus a random suffix. */
function defaultIdentity(): string {
  return `${hostname()}_${Math.random().toString(16).slice(2, 8)}`;
}
