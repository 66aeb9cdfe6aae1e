#!/usr/bin/env node
/**
 * `tributary`: one binary for every role. `operator` runs the controller; `sync` and
 * `drift-check` run inside Jobs; `validate` checks manifests offline.
 */
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from './lib/log.ts';
import {
  DEFAULT_KUBE_API_BURST,
  DEFAULT_KUBE_API_QPS,
  runOperator,
} from './controller/operator.ts';
import { faultSettings } from './controller/integration/faults.ts';
import { runJobAsync } from './runtime/run.ts';
import {
  LOG_LEVELS,
  UsageError,
  integer,
  durationSetting,
  positiveNumber,
  namespacesSetting,
  oneOf,
  settingsReader,
  type FlagValues,
  type LogLevel,
} from './commands/flags.ts';
import { INTAKE_USAGE, intakeSettings, runIntakeCommand } from './commands/intake.ts';
import { leaderDecision } from './commands/leader.ts';
import { parseCommandLine } from './commands/program.ts';
import { validateFiles } from './commands/validate.ts';
import { KUBECTL_COMMANDS, KUBECTL_USAGE, runKubectl } from './kubectl/index.ts';

export { UsageError } from './commands/flags.ts';
export { parseCommandLine } from './commands/program.ts';

/** The image of this build; Jobs of the built-in connector run it. */
const DEFAULT_IMAGE = 'ghcr.io/tributary-dev/tributary:0.1.0';

const USAGE = `tributary — run third-party integrations as Kubernetes infrastructure

Usage: tributary <command> [options]

Commands:
  operator      Run the controller against $KUBECONFIG or the in-cluster config
  sync          Run one sync inside a Job: read TRIBUTARY_RUN, page through the source, write
                each record to the destination with an Idempotency-Key, write the result
                (--dry: no I/O, report success)
  drift-check   Run one drift check inside a Job: stream the source and destination.list,
                compare by id and contracted fields (external sort, bounded memory),
                report missing/unexpected/mismatched; Repair re-applies, never deletes
  intake        Run the webhook intake against $KUBECONFIG or the in-cluster config: verify
                each delivery, store it durably, then answer 2xx; apply it through the
                sync's idempotent writer (docs/webhooks.md)
  validate      Check Integration and ReconcilePolicy manifests offline: tributary validate FILE...
                (YAML errors with their line, skipped documents named, N valid/invalid/skipped)
  help          Show this help

${KUBECTL_USAGE}

Operator options (each also read from the environment variable in brackets):
  --namespace NS[,NS...]  Watch these namespaces only [WATCH_NAMESPACE]; default all
  --image IMAGE           Image of the built-in connector Jobs [TRIBUTARY_IMAGE]
                          (default ${DEFAULT_IMAGE})
  --metrics-port N        /healthz, /readyz, /metrics port [METRICS_PORT]; default 8080
  --leader-elect BOOL     true|false: run controllers only while holding the Lease
                          [LEADER_ELECT]; default true in a cluster; outside one, true only
                          when a lease namespace is given or named by the kubeconfig context
  --lease-namespace NS    Namespace of the Lease [POD_NAMESPACE]
  --lease-name NAME       Name of the Lease [LEASE_NAME]; default tributary-operator
  --workers N             Concurrent Integration reconciles [WORKERS]; default 4
  --kube-api-qps N        Requests per second to the API server, sustained (the client
                          request budget, kube-controller-manager's flag) [KUBE_API_QPS];
                          default ${DEFAULT_KUBE_API_QPS}
  --kube-api-burst N      Requests to the API server at once after idling [KUBE_API_BURST];
                          default ${DEFAULT_KUBE_API_BURST}
  --intake-url URL[,URL]  The webhook intake replicas' health ports [INTAKE_URL]; default
                          the ready intake pods in the lease namespace
  --webhook-grace DURATION  How late a delivery may be before a sync counts its change as
                          missed [WEBHOOK_GRACE]; default 2m
  --log-level LEVEL       trace|debug|info|warn|error [LOG_LEVEL]; default info

${INTAKE_USAGE}
Options:
  -h, --help    Show this help

An unknown flag or a value that cannot be used (e.g. --workers 0) exits with status 2.
`;

/** What the operator runs with, from its flags and environment, validated. */
export interface OperatorSettings {
  image: string;
  namespaces: string[];
  metricsPort: number;
  leaderElection: boolean;
  leaseNamespace: string | undefined;
  leaseName: string;
  workers: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  logLevel: LogLevel;
  intakeURLs: string[];
  webhookGrace: string;
}

/**
 * The operator's settings from `values` (parsed flags) and `env`; a flag wins over its
 * environment variable. Throws a {@link UsageError} naming the flag (and variable) of the first
 * value that cannot be used.
 */
export function operatorSettings(values: FlagValues, env: NodeJS.ProcessEnv): OperatorSettings {
  const read = settingsReader(values, env);
  const namespaces = namespacesSetting(read('namespace', 'WATCH_NAMESPACE'));
  return {
    image: read('image', 'TRIBUTARY_IMAGE').raw ?? DEFAULT_IMAGE,
    namespaces,
    metricsPort: integer(read('metrics-port', 'METRICS_PORT'), 8080, 65_535),
    leaderElection:
      oneOf(read('leader-elect', 'LEADER_ELECT'), ['true', 'false'], 'true') === 'true',
    leaseNamespace: read('lease-namespace', 'POD_NAMESPACE').raw,
    leaseName: read('lease-name', 'LEASE_NAME').raw ?? 'tributary-operator',
    workers: integer(read('workers', 'WORKERS'), 4, 1024),
    kubeApiQps: positiveNumber(read('kube-api-qps', 'KUBE_API_QPS'), DEFAULT_KUBE_API_QPS, 100_000),
    kubeApiBurst: integer(
      read('kube-api-burst', 'KUBE_API_BURST'),
      DEFAULT_KUBE_API_BURST,
      100_000,
    ),
    logLevel: oneOf(read('log-level', 'LOG_LEVEL'), LOG_LEVELS, 'info'),
    webhookGrace: durationSetting(read('webhook-grace', 'WEBHOOK_GRACE'), '2m'),
    intakeURLs: (read('intake-url', 'INTAKE_URL').raw ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url !== ''),
  };
}

/** Runs the operator until SIGINT or SIGTERM; resolves to the exit code. */
async function operator(
  settings: OperatorSettings,
  explicit: boolean | undefined,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const log = createLogger({ level: settings.logLevel });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const decision = leaderDecision({
    explicit,
    inCluster:
      env.KUBERNETES_SERVICE_HOST !== undefined &&
      existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token'),
    leaseNamespace: settings.leaseNamespace,
    contextNamespace: kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace,
    leaseName: settings.leaseName,
  });
  log.info(decision.message);
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      stop.abort();
    });
  }
  try {
    await runOperator(
      {
        image: settings.image,
        namespaces: settings.namespaces,
        metricsPort: settings.metricsPort,
        leaderElection: decision.leaderElection,
        leaseNamespace: decision.leaseNamespace,
        leaseName: settings.leaseName,
        workers: settings.workers,
        kubeApiQps: settings.kubeApiQps,
        kubeApiBurst: settings.kubeApiBurst,
        intakeURLs: settings.intakeURLs,
        webhookGrace: settings.webhookGrace,
        kubeConfig,
        log,
        identity: process.env.POD_NAME,
        faults: faultSettings(process.env),
      },
      stop.signal,
    );
    return 0;
  } catch (error) {
    log.error({ err: error }, 'operator failed');
    return 1;
  } finally {
    log.flush();
  }
}

/** Runs the command line; resolves to the process exit code (2 for a usage error). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const { positionals, values } = parseCommandLine(argv);
    const [command, ...rest] = positionals;
    if (values.help === true || command === undefined || command === 'help') {
      console.log(USAGE);
      return 0;
    }
    switch (command) {
      case 'validate': {
        const report = validateFiles(rest);
        for (const line of report.err) console.error(line);
        for (const line of report.out) console.log(line);
        return report.exitCode;
      }
      case 'operator': {
        const settings = operatorSettings(values, env);
        const given = values['leader-elect'] !== undefined || (env.LEADER_ELECT ?? '') !== '';
        return await operator(settings, given ? settings.leaderElection : undefined, env);
      }
      case 'intake':
        return await runIntakeCommand(intakeSettings(values, env));
      case 'sync':
      case 'drift-check':
        // With an Integration NAME it is the user's request; without, the run inside a Job.
        if (rest.length > 0) return await runKubectl(command, rest, values);
        return await runJobAsync({ kind: command, dry: values.dry === true, env });
      default:
        if (KUBECTL_COMMANDS.includes(command)) return await runKubectl(command, rest, values);
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`tributary: ${error.message}\nRun "tributary --help" for usage.`);
    return 2;
  }
}

// Run only as the entry point: tests import the parsers above without starting anything.
if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
