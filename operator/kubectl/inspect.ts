/** `history NAME`, `logs NAME [--run JOB]` and `events NAME`. */
import { apiPath } from '../lib/kube/api.ts';
import { CliError, list, readIntegration, session, type FlagValues } from './client.ts';
import { historyTable, relative, table } from './format.ts';
import { eventTime, type KubeEvent, type KubeJob, type KubePod } from './objects.ts';

/** Prints the runs of the Integration. */
export async function history(args: string[], values: FlagValues): Promise<number> {
  const s = session(values);
  console.log(historyTable(await readIntegration(s, args[0] ?? ''), new Date()));
  return 0;
}

/** The Job of the latest run: the newest Job of the Integration. */
export function latestJob(jobs: KubeJob[]): KubeJob | undefined {
  return [...jobs].sort(
    (a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
      b.metadata.name.localeCompare(a.metadata.name),
  )[0];
}

/** Prints the output of the run pod of `--run` (default the latest run) via pods/log. */
export async function logs(args: string[], values: FlagValues): Promise<number> {
  const s = session(values);
  const name = args[0] ?? '';
  const integration = await readIntegration(s, name);
  const selector = `tributary.dev/integration-uid=${integration.metadata.uid ?? ''}`;
  const jobs = await list<KubeJob>(s, apiPath`/apis/batch/v1/namespaces/${s.namespace}/jobs`, {
    labelSelector: selector,
  });
  const job =
    typeof values.run === 'string'
      ? jobs.find((j) => j.metadata.name === values.run)
      : latestJob(jobs);
  if (job === undefined) {
    throw new CliError(
      typeof values.run === 'string'
        ? `run "${values.run}" of integration "${s.namespace}/${name}" not found`
        : `integration "${s.namespace}/${name}" has no runs`,
    );
  }
  const pods = await list<KubePod>(s, apiPath`/api/v1/namespaces/${s.namespace}/pods`, {
    labelSelector: `batch.kubernetes.io/job-name=${job.metadata.name}`,
  });
  const pod = [...pods].sort((a, b) =>
    (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
  )[0];
  if (pod === undefined)
    throw new CliError(`run "${job.metadata.name}" has no pod (yet, or any more)`);
  const text = await s.api.stream({
    path: apiPath`/api/v1/namespaces/${s.namespace}/pods/${pod.metadata.name}/log`,
    accept: '*/*',
  });
  for await (const chunk of text) process.stdout.write(chunk);
  return 0;
}

/** Prints the Events of the Integration, its Jobs and their pods, oldest first. */
export async function events(args: string[], values: FlagValues): Promise<number> {
  const s = session(values);
  const integration = await readIntegration(s, args[0] ?? '');
  const selector = {
    labelSelector: `tributary.dev/integration-uid=${integration.metadata.uid ?? ''}`,
  };
  const [jobs, pods, all] = await Promise.all([
    list<KubeJob>(s, apiPath`/apis/batch/v1/namespaces/${s.namespace}/jobs`, selector),
    list<KubePod>(s, apiPath`/api/v1/namespaces/${s.namespace}/pods`, selector),
    list<KubeEvent>(s, apiPath`/api/v1/namespaces/${s.namespace}/events`),
  ]);
  const uids = new Set([
    integration.metadata.uid,
    ...jobs.map((j) => j.metadata.uid),
    ...pods.map((p) => p.metadata.uid),
  ]);
  const mine = all
    .filter((event) => uids.has(event.involvedObject.uid))
    .sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
  if (mine.length === 0) {
    console.log(`No events for integration "${s.namespace}/${integration.metadata.name}".`);
    return 0;
  }
  const now = new Date();
  const rows = mine.map((event) => [
    relative(eventTime(event) || undefined, now),
    event.type ?? '',
    event.reason ?? '',
    `${event.involvedObject.kind ?? ''}/${event.involvedObject.name ?? ''}`,
    event.message ?? '',
  ]);
  console.log(table(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], rows));
  return 0;
}
