/**
 * Secret sentinels: every Secret a chaos scenario creates holds values with one random marker,
 * and after the scenario nothing the operator or its runs wrote may contain it — operator logs,
 * run pod output, Integration status, Events, Job and pod specs, metrics, the report.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ClusterClient } from '../../../dev/cluster/cluster.ts';

/** This process's marker; each value is `<marker>-<purpose>`, so a leak names its Secret key. */
export const SENTINEL =
  process.env.CHAOS_SENTINEL ?? `tributary-sentinel-${randomBytes(8).toString('hex')}`;

/** Creates Secret `name` in `namespace` with a sentinel value under each of `keys`. */
export async function sentinelSecret(
  client: ClusterClient,
  namespace: string,
  name: string,
  keys: readonly string[],
): Promise<void> {
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  const stringData = Object.fromEntries(keys.map((key) => [key, `${SENTINEL}-${name}-${key}`]));
  await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData } });
}

/** Where to look; the API objects are always read (as admin, all namespaces). */
export interface LeakSources {
  /** Files and directories (walked) the operator and its runs wrote: logs, pod dirs, reports. */
  paths: readonly string[];
  /** Texts fetched by the scenario (e.g. each operator's /metrics). */
  texts?: readonly { what: string; text: string }[];
}

/** Where the sentinel was found, e.g. `events`, `/tmp/x/operator.log`; empty when nowhere. */
export async function sentinelLeaks(
  client: ClusterClient,
  sources: LeakSources,
): Promise<string[]> {
  const found: string[] = [];
  const resources = ['integrations', 'reconcilepolicies', 'events', 'jobs', 'pods'];
  for (const resource of resources) {
    const listed = await client.kubectl(['get', resource, '-A', '-o', 'json']);
    if (listed.code !== 0) throw new Error(`kubectl get ${resource}: ${listed.stderr}`);
    if (listed.stdout.includes(SENTINEL)) found.push(resource);
  }
  for (const { what, text } of sources.texts ?? []) if (text.includes(SENTINEL)) found.push(what);
  for (const path of sources.paths) found.push(...filesContaining(path));
  return found;
}

/** Files under `path` holding the sentinel (run pods get Secrets as env, never as files). */
function filesContaining(path: string): string[] {
  if (!existsSync(path)) return [];
  const stat = statSync(path);
  if (stat.isDirectory())
    return readdirSync(path).flatMap((entry) => filesContaining(join(path, entry)));
  if (!stat.isFile() || stat.size > 256 * 1024 * 1024) return [];
  return readFileSync(path).includes(SENTINEL) ? [path] : [];
}
