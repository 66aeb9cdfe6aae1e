import type { V1KeyToPath, V1Pod, V1Volume, V1VolumeProjection } from '@kubernetes/client-node';
import { fieldValue } from './env.ts';
import { serviceAccountTokenKey, type ObjectData, type PodObjects } from './objects.ts';
import { StartProblem } from './problems.ts';

/** One file to write inside a volume directory. */
export interface VolumeFile {
  /** Path relative to the volume directory. */
  path: string;
  content: Buffer;
  /** File mode bits, e.g. 0o644. */
  mode: number;
}

/** The kubelet's default mode for Secret, ConfigMap, downward API and projected files. */
export const DEFAULT_FILE_MODE = 0o644;

/**
 * The files of a `secret`, `configMap`, `downwardAPI` or `projected` volume; other volume types
 * (`emptyDir` and anything unsupported) are an empty directory. A missing non-optional Secret,
 * ConfigMap or key throws `StartProblem('ContainerCreating')` with the kubelet's mount message.
 */
export function volumeFiles(pod: V1Pod, volume: V1Volume, objects: PodObjects): VolumeFile[] {
  try {
    if (volume.secret) {
      const { secretName, items, defaultMode, optional } = volume.secret;
      return keyFiles(objects, true, secretName ?? '', items, defaultMode, optional);
    }
    if (volume.configMap) {
      const { name, items, defaultMode, optional } = volume.configMap;
      return keyFiles(objects, false, name ?? '', items, defaultMode, optional);
    }
    if (volume.downwardAPI) {
      const mode = volume.downwardAPI.defaultMode ?? DEFAULT_FILE_MODE;
      return downwardFiles(pod, volume.downwardAPI.items, mode);
    }
    if (volume.projected) {
      const mode = volume.projected.defaultMode ?? DEFAULT_FILE_MODE;
      return (volume.projected.sources ?? []).flatMap((s) => projectedFiles(pod, s, objects, mode));
    }
    return [];
  } catch (error) {
    if (!(error instanceof StartProblem)) throw error;
    throw new StartProblem(
      'ContainerCreating',
      `MountVolume.SetUp failed for volume "${volume.name}" : ${error.message}`,
    );
  }
}

function keyFiles(
  objects: PodObjects,
  isSecret: boolean,
  name: string,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number | undefined,
  optional: boolean | undefined,
): VolumeFile[] {
  const data: ObjectData | undefined = (isSecret ? objects.secrets : objects.configMaps).get(name);
  const mode = defaultMode ?? DEFAULT_FILE_MODE;
  if (data === undefined) {
    if (optional === true) return [];
    throw new StartProblem(
      'ContainerCreating',
      `${isSecret ? 'secret' : 'configmap'} "${name}" not found`,
    );
  }
  if (items === undefined || items.length === 0) {
    return Object.entries(data).map(([key, content]) => ({ path: key, content, mode }));
  }
  const files: VolumeFile[] = [];
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional === true) continue;
      const what = isSecret
        ? 'references non-existent secret key'
        : 'configmap references non-existent config key';
      throw new StartProblem('ContainerCreating', `${what}: ${item.key}`);
    }
    files.push({ path: item.path, content, mode: item.mode ?? mode });
  }
  return files;
}

function downwardFiles(
  pod: V1Pod,
  items: readonly { path: string; fieldRef?: { fieldPath: string }; mode?: number }[] | undefined,
  mode: number,
): VolumeFile[] {
  return (items ?? []).map((item) => {
    if (item.fieldRef === undefined) {
      throw new StartProblem(
        'ContainerCreating',
        `downwardAPI item ${item.path}: only fieldRef is supported`,
      );
    }
    const content = Buffer.from(fieldValue(pod, item.fieldRef), 'utf8');
    return { path: item.path, content, mode: item.mode ?? mode };
  });
}

function projectedFiles(
  pod: V1Pod,
  source: V1VolumeProjection,
  objects: PodObjects,
  mode: number,
): VolumeFile[] {
  if (source.secret) {
    const { name, items, optional } = source.secret;
    return keyFiles(objects, true, name ?? '', items, mode, optional);
  }
  if (source.configMap) {
    const { name, items, optional } = source.configMap;
    return keyFiles(objects, false, name ?? '', items, mode, optional);
  }
  if (source.downwardAPI) return downwardFiles(pod, source.downwardAPI.items, mode);
  if (source.serviceAccountToken) {
    const token = objects.serviceAccountTokens.get(
      serviceAccountTokenKey(source.serviceAccountToken.audience),
    );
    if (token === undefined)
      throw new StartProblem('ContainerCreating', 'service account token not available');
    return [{ path: source.serviceAccountToken.path, content: Buffer.from(token, 'utf8'), mode }];
  }
  return [];
}
