/**
 * Replacing the status subresource of a Tributary object (PUT /status with the cached
 * resourceVersion: a stale cache gets 409 and a retry, never a lost update).
 */
import { GROUP, VERSION } from '../../api/index.ts';
import { apiPath, type ApiTransport, DEFAULT_API_TIMEOUT_MS } from '../../lib/kube/api.ts';
import type { ReconcileContext } from './controller.ts';

/** The object whose status is replaced. */
export interface StatusTarget {
  namespace: string;
  name: string;
  resourceVersion?: string | undefined;
}

/**
 * A function that replaces the status of objects of one kind, within `timeoutMs` (default
 * {@link DEFAULT_API_TIMEOUT_MS}) and `ctx.signal`; errors are ApiErrors.
 */
export function statusWriter(
  api: ApiTransport,
  kind: 'Integration' | 'ReconcilePolicy',
  plural: 'integrations' | 'reconcilepolicies',
  timeoutMs = DEFAULT_API_TIMEOUT_MS,
): (object: StatusTarget, status: object, ctx: ReconcileContext) => Promise<void> {
  return async ({ namespace, name, resourceVersion }, status, ctx) => {
    await api.request({
      method: 'PUT',
      path: apiPath`/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}/${name}/status`,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind,
        metadata: { name, namespace, resourceVersion },
        status,
      },
      timeoutMs,
      signal: ctx.signal,
    });
  };
}
