#!/usr/bin/env node
/**
 * `tributary`: one binary for every role. `operator` runs the controller; `sync` and
 * `drift-check` run inside Jobs; `validate` checks manifests offline.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { namespaceList } from './controller/machinery/namespaces.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { validateIntegration, validateReconcilePolicy } from './api/index.ts';
import { createLogger } from './lib/log.ts';
import { runOperator } from './controller/operator.ts';
import { runJobAsync } from './runtime/run.ts';

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
  validate      Check Integration and ReconcilePolicy manifests offline: tributary validate FILE...
  help          Show this help

Operator options (each also read from the environment variable in brackets):
  --namespace NS[,NS...]  Watch these namespaces only [WATCH_NAMESPACE]; default all
  --image IMAGE           Image of the built-in connector Jobs [TRIBUTARY_IMAGE]
                          (default ${DEFAULT_IMAGE})
  --metrics-port N        /healthz, /readyz, /metrics port [METRICS_PORT]; default 8080
  --leader-elect BOOL     Run controllers only while holding the Lease; default true
  --lease-namespace NS    Namespace of the Lease [POD_NAMESPACE]
  --lease-name NAME       Name of the Lease [LEASE_NAME]; default tributary-operator
  --workers N             Concurrent Integration reconciles; default 4
  --log-level LEVEL       trace|debug|info|warn|error [LOG_LEVEL]; default info

Options:
  -h, --help    Show this help
`;

/** Checks every Integration and ReconcilePolicy document in `files`; returns the exit code. */
function validateFiles(files: string[]): number {
  let failures = 0;
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const object: unknown = document.toJS();
      const kind = (object as { kind?: unknown } | null)?.kind;
      const result =
        kind === 'Integration'
          ? validateIntegration(object)
          : kind === 'ReconcilePolicy'
            ? validateReconcilePolicy(object)
            : undefined;
      if (result === undefined) continue;
      const name = result.ok ? result.value.metadata.name : '';
      if (result.ok) {
        console.log(`${file}: ${String(kind)} ${name}: valid`);
      } else {
        failures++;
        for (const error of result.errors) console.error(`${file}: ${String(kind)}: ${error}`);
      }
    }
  }
  return failures === 0 ? 0 : 1;
}

/** Runs the operator until SIGINT or SIGTERM; resolves to the exit code. */
async function operator(values: Record<string, string | boolean | undefined>): Promise<number> {
  const option = (name: string, env: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : process.env[env];
  };
  const log = createLogger({ level: (option('log-level', 'LOG_LEVEL') ?? 'info') as 'info' });
  let namespaces: string[];
  try {
    namespaces = namespaceList(option('namespace', 'WATCH_NAMESPACE'));
  } catch (error) {
    log.error({ err: error }, 'invalid configuration');
    log.flush();
    return 2;
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
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
        kubeConfig,
        log,
        image: option('image', 'TRIBUTARY_IMAGE') ?? DEFAULT_IMAGE,
        namespaces,
        metricsPort: Number(option('metrics-port', 'METRICS_PORT') ?? 8080),
        leaderElection: option('leader-elect', 'LEADER_ELECT') !== 'false',
        leaseNamespace: option('lease-namespace', 'POD_NAMESPACE'),
        leaseName: option('lease-name', 'LEASE_NAME') || 'tributary-operator',
        workers: Number(option('workers', 'WORKERS') ?? 4),
        identity: process.env.POD_NAME,
        faults: {
          crashAfterJobCreate: process.env.TRIBUTARY_FAULT_INJECTION === 'crash-after-job-create',
        },
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

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      dry: { type: 'boolean' },
      namespace: { type: 'string' },
      image: { type: 'string' },
      'metrics-port': { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      workers: { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case 'validate':
      return validateFiles(rest);
    case 'operator':
      return operator(values);
    case 'sync':
    case 'drift-check':
      return runJobAsync({ kind: command, dry: values.dry === true, env: process.env });
    default:
      console.error(`tributary: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
