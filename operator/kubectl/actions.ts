/**
 * `sync`, `drift-check`, `resync` NAME (set the request annotation; `--wait` follows the run to
 * its end) and `suspend` / `resume` NAME (spec.suspend).
 */
import {
  DRIFT_CHECK_REQUESTED_ANNOTATION,
  RESYNC_REQUESTED_ANNOTATION,
  SYNC_REQUESTED_ANNOTATION,
  parseDuration,
  type Integration,
  type RunRecord,
} from '../api/index.ts';
import {
  CliError,
  patchIntegration,
  readIntegration,
  session,
  type FlagValues,
  type Session,
} from './client.ts';
import { counts, duration } from './format.ts';

/** What each request command sets and where status says it was handled. */
const REQUESTS = {
  sync: { annotation: SYNC_REQUESTED_ANNOTATION, handled: 'lastHandledSyncRequest', kind: 'sync' },
  'drift-check': {
    annotation: DRIFT_CHECK_REQUESTED_ANNOTATION,
    handled: 'lastHandledDriftCheckRequest',
    kind: 'drift-check',
  },
  resync: {
    annotation: RESYNC_REQUESTED_ANNOTATION,
    handled: 'lastHandledResyncRequest',
    kind: 'sync',
  },
} as const;

/** A request command. */
export type RequestCommand = keyof typeof REQUESTS;

/** The finished run that answers a request made at `since`, if status has it yet. */
export function answeringRun(
  integration: Integration,
  kind: string,
  jobName: string | undefined,
  since: number,
): RunRecord | undefined {
  const status = integration.status;
  const runs = [...(status?.history ?? []), status?.lastSync, status?.lastDriftCheck].filter(
    (run): run is RunRecord => run !== undefined && run.kind === kind,
  );
  if (jobName !== undefined) return runs.find((run) => run.jobName === jobName);
  return runs.find((run) => Date.parse(run.startTime ?? run.dueTime ?? '') >= since - 1000);
}

/** One line: `sync run <job> Succeeded in 3s (read=1 written=1 ...)`. */
export function outcomeLine(run: RunRecord): string {
  const reason = run.reason === undefined ? '' : ` (${run.reason})`;
  return `${run.kind} run ${run.jobName} ${run.outcome}${reason} in ${duration(run)}: ${counts(run)}${run.error === undefined ? '' : `\nerror: ${run.error.message}`}`;
}

async function follow(
  s: Session,
  name: string,
  command: RequestCommand,
  value: string,
  timeoutMs: number,
): Promise<number> {
  const request = REQUESTS[command];
  const since = Date.parse(value);
  const deadline = Date.now() + timeoutMs;
  let jobName: string | undefined;
  while (Date.now() < deadline) {
    const integration = await readIntegration(s, name);
    const handled = integration.status?.[request.handled] === value;
    const active = integration.status?.activeRun;
    if (handled && jobName === undefined && active?.kind === request.kind) {
      jobName = active.jobName;
      console.log(`run ${jobName} started`);
    }
    const run = handled ? answeringRun(integration, request.kind, jobName, since) : undefined;
    if (run !== undefined && active?.jobName !== run.jobName) {
      console.log(outcomeLine(run));
      return run.outcome === 'Failed' ? 1 : 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new CliError(
    `timed out after ${Math.round(timeoutMs / 1000)}s waiting for the ${request.kind} run of "${s.namespace}/${name}"`,
  );
}

/** Sets the request annotation (and with --wait follows the run); resolves to the exit code. */
export async function requestRun(
  command: RequestCommand,
  args: string[],
  values: FlagValues,
): Promise<number> {
  const s = session(values);
  const name = args[0] ?? '';
  const timeoutText = typeof values.timeout === 'string' ? values.timeout : '10m';
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined || timeoutMs <= 0)
    throw new CliError(
      `--timeout must be a duration such as 90s or 5m, got ${JSON.stringify(timeoutText)}`,
    );
  const value = new Date().toISOString();
  await patchIntegration(s, name, {
    metadata: { annotations: { [REQUESTS[command].annotation]: value } },
  });
  console.log(
    `integration "${s.namespace}/${name}": ${command} requested (${REQUESTS[command].annotation}=${value})`,
  );
  if (values.wait !== true) return 0;
  return follow(s, name, command, value, timeoutMs);
}

/** Sets or clears spec.suspend; resolves to the exit code. */
export async function setSuspend(
  suspend: boolean,
  args: string[],
  values: FlagValues,
): Promise<number> {
  const s = session(values);
  const name = args[0] ?? '';
  await patchIntegration(s, name, { spec: { suspend } });
  console.log(`integration "${s.namespace}/${name}" ${suspend ? 'suspended' : 'resumed'}`);
  return 0;
}
