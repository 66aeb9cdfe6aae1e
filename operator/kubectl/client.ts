/**
 * The user's connection for `kubectl tributary`: the current kubeconfig (or --kubeconfig,
 * --context), the namespace (-n, else the context's, else `default`) and the Integration.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION } from '../api/common.ts';
import type { Integration } from '../api/index.ts';
import { KubeApi, apiPath } from '../lib/kube/api.ts';
import { ApiError } from '../lib/kube/errors.ts';
/** Flag values by long name. */
export type FlagValues = Record<string, string | boolean | undefined>;

/** An error the user reads as `Error: <message>`; the process exits 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** What every cluster command works with. */
export interface Session {
  api: KubeApi;
  kubeConfig: KubeConfig;
  namespace: string;
}

/** The session of the flags `--kubeconfig`, `--context`, `-n`. */
export function session(values: FlagValues): Session {
  const kubeConfig = new KubeConfig();
  const file = values.kubeconfig;
  if (typeof file === 'string') kubeConfig.loadFromFile(file);
  else kubeConfig.loadFromDefault();
  if (typeof values.context === 'string') kubeConfig.setCurrentContext(values.context);
  const fromContext = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  const namespace =
    typeof values.namespace === 'string' ? values.namespace : (fromContext ?? 'default');
  return {
    api: new KubeApi({ kubeConfig, userAgent: 'kubectl-tributary' }),
    kubeConfig,
    namespace,
  };
}

/** The path of an Integration (or of the collection with no name). */
export function integrationPath(namespace: string | undefined, name?: string): string {
  const base = `/apis/${API_VERSION}`;
  const collection =
    namespace === undefined
      ? `${base}/integrations`
      : `${base}${apiPath`/namespaces/${namespace}`}/integrations`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}

/** The Integration `name`, or a {@link CliError} `integration "ns/name" not found`. */
export async function readIntegration(s: Session, name: string): Promise<Integration> {
  try {
    return await s.api.request<Integration>({ path: integrationPath(s.namespace, name) });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new CliError(`integration "${s.namespace}/${name}" not found`);
    }
    throw error;
  }
}

/** A JSON merge patch of the Integration. */
export async function patchIntegration(
  s: Session,
  name: string,
  patch: unknown,
): Promise<Integration> {
  await readIntegration(s, name);
  return s.api.request<Integration>({
    method: 'PATCH',
    path: integrationPath(s.namespace, name),
    body: patch,
    contentType: 'application/merge-patch+json',
  });
}

/** The items of a list call. */
export async function list<T>(
  s: Session,
  path: string,
  query?: Record<string, string>,
): Promise<T[]> {
  const result = await s.api.request<{ items?: T[] }>({
    path,
    ...(query === undefined ? {} : { query }),
  });
  return result.items ?? [];
}
