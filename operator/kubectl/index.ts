/**
 * `kubectl tributary` (and the same commands under `tributary`): the user's view of and hands on
 * Integrations, through the current kubeconfig. Imports operator/api and operator/lib only.
 */
import { CliError, type FlagValues } from './client.ts';
import { requestRun, setSuspend } from './actions.ts';
import { get } from './get.ts';
import { events, history, logs } from './inspect.ts';
import { trace } from './trace.ts';
import { version } from './version.ts';

type Run = (args: string[], values: FlagValues) => Promise<number>;

const RUNS: Record<string, Run> = {
  get,
  trace,
  sync: (args, values) => requestRun('sync', args, values),
  'drift-check': (args, values) => requestRun('drift-check', args, values),
  resync: (args, values) => requestRun('resync', args, values),
  suspend: (args, values) => setSuspend(true, args, values),
  resume: (args, values) => setSuspend(false, args, values),
  history,
  logs,
  events,
  version,
};

/** The commands of this component. */
export const KUBECTL_COMMANDS = Object.keys(RUNS);

/** Their part of `tributary --help`. */
export const KUBECTL_USAGE = `kubectl tributary commands (also under tributary; --kubeconfig, --context, -n/--namespace):
  get [NAME]            Health table: NAME READY SUSPENDED LAST SYNC NEXT SYNC MESSAGE
                        (-A/--all-namespaces, -o json|yaml)
  trace NAME            Integration → ReconcilePolicy → Secrets (names only) → Jobs → pods →
                        Events, each with its health
  sync NAME             Request a sync (tributary.dev/sync-requested-at); --wait follows the
                        run to its end and exits 1 if it failed; --timeout DURATION (10m)
  drift-check NAME      Request a drift check; --wait, --timeout as for sync
  resync NAME           Request one full pass from no checkpoint; --wait, --timeout
  suspend NAME          Set spec.suspend: no new runs start
  resume NAME           Clear spec.suspend
  history NAME          The last runs: job, kind, attempt, outcome, duration, counts
  logs NAME [--run JOB] Output of the run pod (default the latest run)
  events NAME           Events of the Integration, its Jobs and pods
  version               Client build, and the operator's from its Deployment image`;

/** Runs `command`; a {@link CliError} is printed as `Error: …` and exits 1. */
export async function runKubectl(
  command: string,
  args: string[],
  values: FlagValues,
): Promise<number> {
  const run = RUNS[command];
  if (run === undefined) throw new CliError(`unknown command "${command}"`);
  try {
    return await run(args, values);
  } catch (error) {
    // A missing object, a refused request, a cluster out of reach: one line, exit 1.
    console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
