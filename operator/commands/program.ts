/**
 * The command line of `tributary` / `kubectl tributary`, parsed by commander: one subcommand per
 * role, each with its own options. An unknown flag, a flag missing its value or an unknown
 * command is a {@link UsageError} naming it (exit status 2).
 */
import { Command, CommanderError, Option } from 'commander';
import { UsageError, type FlagValues } from './flags.ts';

/** What the command line asks for: the command and its arguments, and the flag values. */
export interface CommandLine {
  /** The command first, then its positional arguments; empty for bare `tributary`. */
  positionals: string[];
  /** Flag values by their long name (`metrics-port`), strings or booleans. */
  values: FlagValues;
}

type Spec = [flags: string, description: string];

const OPERATOR_OPTIONS: Spec[] = [
  ['--namespace <value>', 'Watch these namespaces only (comma-separated) [WATCH_NAMESPACE]'],
  ['--image <value>', 'Image of the built-in connector Jobs [TRIBUTARY_IMAGE]'],
  ['--metrics-port <value>', '/healthz, /readyz, /metrics port [METRICS_PORT]'],
  ['--leader-elect <value>', 'true|false [LEADER_ELECT]'],
  ['--lease-namespace <value>', 'Namespace of the Lease [POD_NAMESPACE]'],
  ['--lease-name <value>', 'Name of the Lease [LEASE_NAME]'],
  ['--workers <value>', 'Concurrent reconciles [WORKERS]'],
  ['--kube-api-qps <value>', 'API requests per second [KUBE_API_QPS]'],
  ['--kube-api-burst <value>', 'API requests at once [KUBE_API_BURST]'],
  ['--intake-url <value>', 'Webhook intake health ports [INTAKE_URL]'],
  ['--webhook-grace <value>', 'Webhook lateness allowed [WEBHOOK_GRACE]'],
  ['--log-level <value>', 'trace|debug|info|warn|error [LOG_LEVEL]'],
];

const INTAKE_OPTIONS: Spec[] = [
  ['--port <value>', 'Delivery port [INTAKE_PORT]'],
  ['--metrics-port <value>', 'Health and metrics port [METRICS_PORT]'],
  ['--store <value>', 'sqlite|jetstream [INTAKE_STORE]'],
  ['--data-dir <value>', 'SQLite inbox directory [INTAKE_DATA_DIR]'],
  ['--nats-url <value>', 'JetStream servers [NATS_URL]'],
  ['--nats-stream <value>', 'JetStream stream [NATS_STREAM]'],
  ['--namespace <value>', 'Serve these namespaces only [WATCH_NAMESPACE]'],
  ['--workers <value>', 'Deliveries applied at once [WORKERS]'],
  ['--max-body-bytes <value>', 'Largest delivery accepted [INTAKE_MAX_BODY_BYTES]'],
  ['--log-level <value>', 'trace|debug|info|warn|error [LOG_LEVEL]'],
];

/** Flags of every command that talks to a cluster as the user. */
const KUBE_OPTIONS: Spec[] = [
  ['--kubeconfig <value>', 'Path of the kubeconfig (default $KUBECONFIG or ~/.kube/config)'],
  ['--context <value>', 'The kubeconfig context to use'],
  ['-n, --namespace <value>', 'Namespace of the Integration (default: the context namespace)'],
];

const WAIT_OPTIONS: Spec[] = [
  ['--wait', 'Follow the run to its end and print its outcome; exit 1 if it failed'],
  ['--timeout <value>', 'How long --wait waits (e.g. 90s, 5m); default 10m'],
];

/** [name, arguments, description, options] of every command. */
const COMMANDS: [string, string, string, Spec[]][] = [
  [
    'operator',
    '',
    'Run the controller against the current kubeconfig or in-cluster',
    OPERATOR_OPTIONS,
  ],
  ['intake', '', 'Run the webhook intake', INTAKE_OPTIONS],
  [
    'sync',
    '[name]',
    'With NAME: request a sync of the Integration. Without: run one sync inside a Job',
    [['--dry', 'In a Job: no I/O, report success'], ...WAIT_OPTIONS, ...KUBE_OPTIONS],
  ],
  [
    'drift-check',
    '[name]',
    'With NAME: request a drift check. Without: run one drift check inside a Job',
    [['--dry', 'In a Job: no I/O, report success'], ...WAIT_OPTIONS, ...KUBE_OPTIONS],
  ],
  [
    'resync',
    '<name>',
    'Request one full sync pass from no checkpoint',
    [...WAIT_OPTIONS, ...KUBE_OPTIONS],
  ],
  ['validate', '[files...]', 'Check Integration and ReconcilePolicy manifests offline', []],
  [
    'get',
    '[name]',
    'Health table of Integrations',
    [
      ['-A, --all-namespaces', 'List Integrations of every namespace'],
      ['-o, --output <value>', 'json|yaml (default: a table)'],
      ...KUBE_OPTIONS,
    ],
  ],
  [
    'trace',
    '<name>',
    'Integration → policy → Secrets → Jobs → pods → Events, with health',
    KUBE_OPTIONS,
  ],
  ['suspend', '<name>', 'Set spec.suspend: no new runs start', KUBE_OPTIONS],
  ['resume', '<name>', 'Clear spec.suspend', KUBE_OPTIONS],
  ['history', '<name>', 'The last runs: kind, outcome, counts, duration', KUBE_OPTIONS],
  [
    'logs',
    '<name>',
    'Output of a run pod (default the latest run)',
    [['--run <value>', 'The Job of the run'], ...KUBE_OPTIONS],
  ],
  ['events', '<name>', 'Events of the Integration and its Jobs and pods', KUBE_OPTIONS],
  ['version', '', 'Client and operator build', KUBE_OPTIONS],
  ['help', '[command]', 'Show this help', []],
];

/** Commander's camelCase attribute back to the long flag name it came from. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The program with every command; `found` receives what was parsed. */
export function buildProgram(found: (line: CommandLine) => void): Command {
  const program = new Command('tributary')
    .description('run third-party integrations as Kubernetes infrastructure')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .showSuggestionAfterError(true);
  for (const [name, args, description, options] of COMMANDS) {
    const command = program
      .command(`${name}${args === '' ? '' : ` ${args}`}`)
      .description(description);
    for (const [flags, text] of options) command.addOption(new Option(flags, text));
    command.exitOverride().configureOutput({ writeErr: () => undefined });
    command.action((...received: unknown[]) => {
      const parsed = received.at(-1) as Command;
      const values: FlagValues = {};
      for (const [key, value] of Object.entries(parsed.opts())) {
        values[kebab(key)] = value as string | boolean | undefined;
      }
      const positionals = parsed.args.filter((arg) => arg !== '');
      found({ positionals: [name, ...positionals], values });
    });
  }
  return program;
}

/** The usage text of `tributary --help`. */
export function usage(): string {
  return buildProgram(() => undefined).helpInformation();
}

/**
 * The command line parsed strictly: an unknown flag or command, or a flag missing its value, is
 * a {@link UsageError} that names it. `--help` / bare `tributary` give `{ positionals: [] }`.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) {
    return { positionals: [], values: { help: true } };
  }
  let line: CommandLine | undefined;
  try {
    buildProgram((parsed) => (line = parsed)).parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError)
      throw new UsageError(error.message.replace(/^error: /, ''));
    throw error;
  }
  if (line === undefined) throw new UsageError(`unknown command "${argv[0] ?? ''}"`);
  return line;
}
