/**
 * What the caches keep of an object (controller-runtime's cache transforms): the fields the
 * controllers read, not those only the API server and other clients need. Every object loses
 * `metadata.managedFields` and kubectl's last-applied annotation (a second copy of the spec);
 * the operator's own run Jobs and pods lose their pod template and all of the pod spec but the
 * containers' names and images. Writes never send a cached object back (status is replaced
 * from a plan, with only name, namespace and resourceVersion), so nothing trimmed is lost.
 */
import type { KubernetesObject, V1Job, V1JobSpec, V1Pod } from '@kubernetes/client-node';

/** The annotation `kubectl apply` (client-side) keeps the last applied manifest in. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A function the list-watch applies to every object before it is cached. */
export type CacheTransform<T> = (object: T) => T;

/** Drops managedFields and the last-applied annotation; the same object, changed in place. */
export function stripServerFields<T extends KubernetesObject>(object: T): T {
  const metadata = object.metadata;
  if (metadata === undefined) return object;
  delete metadata.managedFields;
  const annotations = metadata.annotations;
  if (annotations !== undefined && LAST_APPLIED in annotations) {
    const rest = Object.entries(annotations).filter(([key]) => key !== LAST_APPLIED);
    if (rest.length === 0) delete metadata.annotations;
    else metadata.annotations = Object.fromEntries(rest);
  }
  return object;
}

/** A run Job as cached: no pod template (its env holds the whole run document). */
export function trimRunJob(job: V1Job): V1Job {
  stripServerFields(job);
  if (job.spec !== undefined) {
    // The API types make the template required; the cache is the one place without it.
    delete (job.spec as Partial<V1JobSpec>).template;
  }
  return job;
}

/** A run pod as cached: of its spec, the node and each container's name and image. */
export function trimRunPod(pod: V1Pod): V1Pod {
  stripServerFields(pod);
  if (pod.spec !== undefined) {
    const { nodeName, containers } = pod.spec;
    pod.spec = {
      ...(nodeName === undefined ? {} : { nodeName }),
      containers: containers.map(({ name, image }) => ({ name, ...(image ? { image } : {}) })),
    };
  }
  return pod;
}
