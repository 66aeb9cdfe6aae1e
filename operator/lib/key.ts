/**
 * The reconcile key: `namespace/name`, or `name` for a cluster-scoped object. Informer caches,
 * work queues and reconcilers all name objects by it; this module is the one place it is made
 * and taken apart.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** The key of `name` in `namespace` (`name` alone when `namespace` is empty). */
export function joinKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

/** The key of an object, from its metadata. */
export function objectKey(object: KubernetesObject): string {
  return joinKey(object.metadata?.namespace, object.metadata?.name ?? '');
}

/** Splits a key made by {@link joinKey}; a key without `/` is a cluster-scoped name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
