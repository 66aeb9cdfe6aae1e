/**
 * `tributary intake`: the deliveries port (`POST /hooks/{namespace}/{name}`, handler.ts), the
 * health port (`/healthz`, `/readyz` — 503 while the store does not answer — `/metrics` and
 * `GET /stats`, the per-Integration figures the operator folds into status), and the redrive
 * sweep: every 15 s the Integrations carrying `tributary.dev/webhook-redrive-requested-at` have
 * their dead letters made pending again, once per value. The workers that apply deliveries are
 * the runtime's (wired by the CLI), so this module never writes to a destination itself.
 */
import { createServer, type Server } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { registerBuildInfo } from '../lib/build-info.ts';
import {
  WEBHOOK_REDRIVE_ANNOTATION,
  type Inbox,
  type IntakeStats,
  type Integration,
} from '../api/index.ts';
import type { Clock } from '../lib/clock.ts';
import { HealthServer, type HealthServerOptions } from '../lib/health-server.ts';
import type { ApiTransport } from '../lib/kube/api.ts';
import type { Log } from '../lib/log.ts';
import { KubeDirectory } from './directory.ts';
import { hookHandler, type Verify } from './handler.ts';
import { matchHandler } from './match.ts';
import { IntakeMetrics } from './metrics.ts';

/** Options of {@link startIntake}. */
export interface IntakeOptions {
  api: ApiTransport;
  inbox: Inbox;
  verify: Verify;
  clock: Clock;
  log: Log;
  /** Deliveries port; 0 picks a free one. */
  port: number;
  /** Health, metrics and stats port; 0 picks a free one. */
  metricsPort: number;
  host?: string | undefined;
  maxBodyBytes: number;
  namespaces?: readonly string[] | undefined;
  /** Redrive sweep period, in ms. Default 15 s. */
  sweepMs?: number | undefined;
  /** Called after each delivery is stored (the workers claim it at once). */
  onStored?: (() => void) | undefined;
}

/** A running intake. */
export interface Intake {
  readonly port: number;
  readonly metricsPort: number;
  readonly directory: KubeDirectory;
  readonly metrics: IntakeMetrics;
  /** Stops accepting deliveries, lets answers in flight finish, stops the sweep. */
  stop(): Promise<void>;
}

/** Starts both ports and the sweep. */
export async function startIntake(options: IntakeOptions): Promise<Intake> {
  const { inbox, clock, log } = options;
  const directory = new KubeDirectory({ api: options.api, clock });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry);
  const metrics = new IntakeMetrics(
    registry,
    () => inbox.stats(clock.now()),
    () => clock.now(),
  );
  let healthy = await inbox.healthy().catch(() => false);
  const health = new HealthServer({
    registry,
    port: options.metricsPort,
    ...(options.host === undefined ? {} : { host: options.host }),
    routes: healthRoutes(inbox, clock),
  });
  health.addReadinessCheck('inbox', () => healthy);
  const handler = hookHandler({
    ...options,
    directory,
    observe: (result, seconds, integration) => {
      metrics.request(result, seconds, integration);
      if (result === 'stored') options.onStored?.();
    },
  });
  const server = createServer((req, res) => void handler(req, res));
  await Promise.all([health.start(), listen(server, options.port, options.host)]);
  const timers = startTimers(options, metrics, (ok) => {
    healthy = ok;
  });
  log.info(
    { port: portOf(server), metricsPort: health.port, engine: inbox.engine, store: inbox.store },
    'intake serving',
  );
  return {
    port: portOf(server),
    metricsPort: health.port,
    directory,
    metrics,
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeIdleConnections();
      });
      await health.stop();
    },
  };
}

/** `GET /stats`: the store's figures as the {@link IntakeStats} contract. */
async function statsRoute(inbox: Inbox, clock: Clock): Promise<[number, string, string]> {
  try {
    const body: IntakeStats = {
      version: 'tributary.dev/intake-stats/v1',
      store: inbox.store,
      engine: inbox.engine,
      integrations: await inbox.stats(clock.now()),
    };
    return [200, JSON.stringify(body), 'application/json'];
  } catch (error) {
    return [
      503,
      JSON.stringify({ error: error instanceof Error ? error.message : String(error) }),
      'application/json',
    ];
  }
}

/** Redrives the dead letters of every Integration whose redrive annotation has a new value. */
async function sweep(options: IntakeOptions): Promise<void> {
  const paths = options.namespaces?.map(
    (ns) => `/apis/tributary.dev/v1alpha1/namespaces/${encodeURIComponent(ns)}/integrations`,
  ) ?? ['/apis/tributary.dev/v1alpha1/integrations'];
  for (const path of paths) {
    const list = await options.api.request<{ items?: Integration[] }>({ path, timeoutMs: 60_000 });
    for (const item of list.items ?? []) {
      const request = item.metadata.annotations?.[WEBHOOK_REDRIVE_ANNOTATION];
      if (request === undefined || item.spec.webhook === undefined) continue;
      const target = {
        namespace: item.metadata.namespace ?? '',
        name: item.metadata.name,
        uid: item.metadata.uid ?? '',
      };
      const moved = await options.inbox.redrive(target, request);
      if (moved > 0)
        options.log.info(
          { namespace: target.namespace, integration: target.name, request, moved },
          'dead-lettered deliveries redriven',
        );
    }
  }
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** The health port's own routes: the figures the operator reads, and the sync's /match. */
function healthRoutes(inbox: Inbox, clock: Clock): HealthServerOptions['routes'] {
  return {
    '/stats': (_url, _body, method) =>
      method === 'GET' || method === 'HEAD'
        ? statsRoute(inbox, clock)
        : Promise.resolve([405, '{"error":"GET /stats"}\n', 'application/json']),
    '/match': matchHandler(inbox),
  };
}

/**
 * Readiness follows the store within seconds (`report` gets each answer); the redrive sweep lists
 * the Integrations every `sweepMs`.
 */
function startTimers(
  options: IntakeOptions,
  metrics: IntakeMetrics,
  report: (healthy: boolean) => void,
): NodeJS.Timeout[] {
  const { inbox, log } = options;
  const probe = setInterval(() => {
    void inbox.healthy().then(report, () => {
      report(false);
    });
  }, 2000);
  const sweeping = setInterval(() => {
    void sweep(options).catch((error: unknown) => {
      metrics.sweepFailed();
      log.warn({ err: String(error) }, 'redrive sweep failed; redrive requests wait for the next');
    });
  }, options.sweepMs ?? 15_000);
  return [probe, sweeping];
}
