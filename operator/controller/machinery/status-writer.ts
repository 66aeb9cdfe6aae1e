/**
 * Replacing the status subresource of a Tributary object (PUT /status with the cached
 * resourceVersion: a stale cache gets 409 and a retry, never a lost update).
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/index.ts';
import { toApiError } from './errors.ts';

/** The object whose status is replaced. */
export interface StatusTarget {
  namespace: string;
  name: string;
  resourceVersion?: string | undefined;
}

/** A function that replaces the status of objects of one kind; errors are ApiErrors. */
export function statusWriter(
  kubeConfig: KubeConfig,
  kind: 'Integration' | 'ReconcilePolicy',
  plural: 'integrations' | 'reconcilepolicies',
): (object: StatusTarget, status: object) => Promise<void> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  return async ({ namespace, name, resourceVersion }, status) => {
    try {
      await custom.replaceNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        name,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind,
          metadata: { name, namespace, resourceVersion },
          status,
        },
      });
    } catch (error) {
      throw toApiError(error);
    }
  };
}
