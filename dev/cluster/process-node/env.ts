import type { V1Container, V1EnvVar, V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';
import { expand } from './expansion.ts';
import type { ObjectData, PodObjects } from './objects.ts';
import { StartProblem } from './problems.ts';

/** The node's address (host IP); pods get loopback addresses of their own (sandbox.ts). */
export const LOOPBACK_IP = '127.0.0.1';

/** Ordered environment variables (later entries win, as in the container runtime). */
export type Environment = Record<string, string>;

/**
 * A container's own environment as the kubelet computes it: `envFrom` sources first, then `env`
 * entries in order, each `value` `$(VAR)`-expanded against the variables declared before it and
 * `serviceEnv`. Throws `StartProblem('CreateContainerConfigError')` with the kubelet's message
 * for a missing non-optional Secret, ConfigMap or key. The image/base env is NOT included.
 */
export function containerEnvironment(
  pod: V1Pod,
  container: V1Container,
  objects: PodObjects,
  serviceEnv: Environment,
): Environment {
  const env: Environment = {};
  for (const source of container.envFrom ?? []) {
    const isSecret = source.secretRef !== undefined;
    const ref = source.secretRef ?? source.configMapRef;
    if (ref === undefined) continue;
    const data = lookupObject(objects, isSecret, ref.name ?? '', ref.optional === true);
    for (const [key, value] of Object.entries(data ?? {})) {
      if (key === '' || key.includes('=')) continue;
      env[`${source.prefix ?? ''}${key}`] = value.toString('utf8');
    }
  }
  const lookup = (name: string): string | undefined =>
    Object.hasOwn(env, name) ? env[name] : serviceEnv[name];
  for (const variable of container.env ?? []) {
    const value = variableValue(pod, variable, objects, lookup);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

function variableValue(
  pod: V1Pod,
  variable: V1EnvVar,
  objects: PodObjects,
  lookup: (name: string) => string | undefined,
): string | undefined {
  const from = variable.valueFrom;
  if (from === undefined) return expand(variable.value ?? '', lookup);
  if (from.fieldRef) return fieldValue(pod, from.fieldRef);
  const ref = from.secretKeyRef ?? from.configMapKeyRef;
  if (ref === undefined) {
    throw new StartProblem(
      'CreateContainerConfigError',
      `env ${variable.name}: this valueFrom source is not supported by the process node`,
    );
  }
  const isSecret = from.secretKeyRef !== undefined;
  const optional = ref.optional === true;
  const data = lookupObject(objects, isSecret, ref.name ?? '', optional);
  if (data === undefined) return undefined;
  const value = data[ref.key];
  if (value !== undefined) return value.toString('utf8');
  if (optional) return undefined;
  const kind = isSecret ? 'Secret' : 'ConfigMap';
  const namespace = pod.metadata?.namespace ?? '';
  throw new StartProblem(
    'CreateContainerConfigError',
    `couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name ?? ''}`,
  );
}

/** The data of a referenced object; undefined if it is missing and optional, else throws. */
function lookupObject(
  objects: PodObjects,
  isSecret: boolean,
  name: string,
  optional: boolean,
): ObjectData | undefined {
  const data = (isSecret ? objects.secrets : objects.configMaps).get(name);
  if (data !== undefined || optional) return data;
  const kind = isSecret ? 'secret' : 'configmap';
  throw new StartProblem('CreateContainerConfigError', `${kind} "${name}" not found`);
}

const LABEL_OR_ANNOTATION = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/**
 * The value of a downward-API `fieldRef`, as the kubelet resolves it for env and volumes.
 * The host IP is 127.0.0.1; the pod IP is `status.podIP` of the pod given (127.0.0.1 when
 * unset). Throws `CreateContainerConfigError` for other paths.
 */
export function fieldValue(pod: V1Pod, selector: V1ObjectFieldSelector): string {
  const meta = pod.metadata ?? {};
  const match = LABEL_OR_ANNOTATION.exec(selector.fieldPath);
  if (match) {
    const map = match[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[match[2] ?? ''] ?? '';
  }
  switch (selector.fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      // The node puts the pod IP it allocated on the pod it plans (see PodWorker).
      return pod.status?.podIP ?? LOOPBACK_IP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return LOOPBACK_IP;
    default:
      throw new StartProblem(
        'CreateContainerConfigError',
        `unsupported fieldRef fieldPath "${selector.fieldPath}"`,
      );
  }
}

/** Labels/annotations as the downward API writes them: sorted `key="value"` lines. */
export function formatMap(map: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map?.[key] ?? '')}`)
    .join('\n');
}
