/**
 * `tributary intake`: the webhook intake and its workers in one process. Composes the intake
 * (operator/intake: verify, store, acknowledge; stats; redrive), the chosen inbox engine and the
 * runtime's webhook workers, which apply deliveries through the sync's idempotent writer.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { systemClock, type Clock } from '../lib/clock.ts';
import { KubeApi } from '../lib/kube/api.ts';
import { createLogger, type Log } from '../lib/log.ts';
import type { Inbox } from '../api/index.ts';
import { withFault } from '../intake/faults.ts';
import { startIntake, type Intake } from '../intake/intake.ts';
import { openJetStreamInbox } from '../intake/inbox/jetstream.ts';
import { openSqliteInbox } from '../intake/inbox/sqlite.ts';
import { verifyDelivery } from '../intake/schemes/index.ts';
import type { DeliveryResult } from '../intake/metrics.ts';
import { createAgent } from '../runtime/http/client.ts';
import { Connections } from '../runtime/webhook/connections.ts';
import { WebhookWorkers } from '../runtime/webhook/workers.ts';
import {
  LOG_LEVELS,
  UsageError,
  integer,
  namespacesSetting,
  oneOf,
  settingsReader,
  type FlagValues,
  type LogLevel,
} from './flags.ts';

/** The intake's flags (merged into the CLI's one strict parser). */
export const INTAKE_FLAGS = {
  port: { type: 'string' },
  store: { type: 'string' },
  'data-dir': { type: 'string' },
  'nats-url': { type: 'string' },
  'nats-stream': { type: 'string' },
  'max-body-bytes': { type: 'string' },
} as const;

/** The intake's part of `tributary --help`. */
export const INTAKE_USAGE = `Intake options (tributary intake; each also read from the variable in brackets):
  --port N                POST /hooks/{namespace}/{name} [INTAKE_PORT]; default 8090
  --metrics-port N        /healthz, /readyz, /metrics, GET /stats [METRICS_PORT]; default 8081
  --store sqlite|jetstream  Durable inbox [INTAKE_STORE]; default sqlite
  --data-dir DIR          Where the SQLite inbox lives [INTAKE_DATA_DIR];
                          default /var/lib/tributary-intake
  --nats-url URL[,URL]    JetStream servers, with --store jetstream [NATS_URL]
  --nats-stream NAME      JetStream stream [NATS_STREAM]; default TRIBUTARY_WEBHOOKS
  --namespace NS[,NS...]  Serve these namespaces only [WATCH_NAMESPACE]; default all
  --workers N             Deliveries applied at once [WORKERS]; default 4
  --max-body-bytes N      Largest delivery accepted (413 above) [INTAKE_MAX_BODY_BYTES];
                          default 1048576
  --log-level LEVEL       trace|debug|info|warn|error [LOG_LEVEL]; default info
`;

/** What the intake runs with, validated. */
export interface IntakeSettings {
  port: number;
  metricsPort: number;
  store: 'sqlite' | 'jetstream';
  dataDir: string;
  natsServers: string[];
  natsStream: string;
  namespaces: string[];
  workers: number;
  maxBodyBytes: number;
  logLevel: LogLevel;
}

/** The intake's settings from flags and environment; throws a UsageError naming the flag. */
export function intakeSettings(values: FlagValues, env: NodeJS.ProcessEnv): IntakeSettings {
  const read = settingsReader(values, env);
  const store = oneOf(read('store', 'INTAKE_STORE'), ['sqlite', 'jetstream'] as const, 'sqlite');
  const nats = read('nats-url', 'NATS_URL');
  const natsServers = (nats.raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (store === 'jetstream' && natsServers.length === 0) {
    throw new UsageError(`--store jetstream needs ${nats.what}`);
  }
  const namespaces = namespacesSetting(read('namespace', 'WATCH_NAMESPACE'));
  return {
    port: integer(read('port', 'INTAKE_PORT'), 8090, 65_535),
    metricsPort: integer(read('metrics-port', 'METRICS_PORT'), 8081, 65_535),
    store,
    dataDir: read('data-dir', 'INTAKE_DATA_DIR').raw ?? '/var/lib/tributary-intake',
    natsServers,
    natsStream: read('nats-stream', 'NATS_STREAM').raw ?? 'TRIBUTARY_WEBHOOKS',
    namespaces,
    workers: integer(read('workers', 'WORKERS'), 4, 1024),
    maxBodyBytes: integer(
      read('max-body-bytes', 'INTAKE_MAX_BODY_BYTES'),
      1_048_576,
      64 * 1_048_576,
    ),
    logLevel: oneOf(read('log-level', 'LOG_LEVEL'), LOG_LEVELS, 'info'),
  };
}

/** Opens the chosen engine, with the test-only fault of TRIBUTARY_FAULT_INJECTION if any. */
async function openInbox(settings: IntakeSettings, fault: string | undefined): Promise<Inbox> {
  const inbox =
    settings.store === 'sqlite'
      ? await openSqliteInbox({
          path: join(settings.dataDir, 'inbox.db'),
          // A volume remounted read-only, as a test fault (root ignores file modes).
          readOnly: fault === 'intake-store-read-only',
        })
      : await openJetStreamInbox({ servers: settings.natsServers, stream: settings.natsStream });
  return withFault(inbox, fault);
}

/** Stops the process's work on SIGINT or SIGTERM. */
function stopOnSignals(log: Log): AbortSignal {
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      stop.abort();
    });
  }
  return stop.signal;
}

/** The runtime's workers over the intake's inbox and directory, reporting to its metrics. */
function startWorkers(
  settings: IntakeSettings,
  inbox: Inbox,
  intake: Intake,
  log: Log,
  clock: Clock,
) {
  const dispatcher = createAgent(30_000);
  const { directory } = intake;
  const workers = new WebhookWorkers({
    inbox,
    directory,
    connections: new Connections({ directory, dispatcher, log, timeoutMs: 30_000 }),
    log,
    clock,
    concurrency: settings.workers,
    observe: (delivery, outcome, now) => {
      const result: DeliveryResult = outcome.kind === 'applied' ? outcome.effect : outcome.kind;
      intake.metrics.delivery(delivery.integration, result, (now - delivery.receivedAt) / 1000);
    },
  });
  workers.start();
  return {
    wake: () => {
      workers.wake();
    },
    async stop() {
      await workers.stop();
      await dispatcher.close();
    },
  };
}

/** Runs the intake until SIGINT or SIGTERM; resolves to the exit code. */
export async function runIntakeCommand(settings: IntakeSettings): Promise<number> {
  const log = createLogger({ level: settings.logLevel });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const clock = systemClock({ keepAlive: true });
  const stopped = stopOnSignals(log);
  let workers: ReturnType<typeof startWorkers> | undefined;
  try {
    const inbox = await openInbox(settings, process.env.TRIBUTARY_FAULT_INJECTION);
    const intake = await startIntake({
      api: new KubeApi({ kubeConfig }),
      inbox,
      verify: verifyDelivery,
      clock,
      log,
      port: settings.port,
      metricsPort: settings.metricsPort,
      maxBodyBytes: settings.maxBodyBytes,
      namespaces: settings.namespaces.length > 0 ? settings.namespaces : undefined,
      onStored: () => {
        workers?.wake();
      },
    });
    workers = startWorkers(settings, inbox, intake, log, clock);
    await new Promise<void>((resolve) => {
      stopped.addEventListener('abort', () => {
        resolve();
      });
    });
    // Answers in flight finish first, then the deliveries being applied, then the store closes.
    await intake.stop();
    await workers.stop();
    await inbox.close();
    return 0;
  } catch (error) {
    log.error({ err: error }, 'intake failed');
    return 1;
  } finally {
    log.flush();
  }
}
