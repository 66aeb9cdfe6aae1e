import { join, posix } from 'node:path';
import type { V1Container } from '@kubernetes/client-node';

/** Where the kubelet would mount the termination-message file when the container names none. */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** A container path (as the process was told it) and where it lives on this host instead. */
export interface Relocation {
  /** Absolute container path, normalised, without a trailing slash. */
  containerPath: string;
  /** Absolute host path inside the pod directory. */
  hostPath: string;
}

/** `<workDir>/pods/<namespace>/<pod>-<first 8 characters of the uid>`. */
export function podDirectory(
  workDir: string,
  namespace: string,
  name: string,
  uid: string,
): string {
  return join(workDir, 'pods', namespace, `${name}-${uid.slice(0, 8)}`);
}

/** The host directory holding volume `volumeName` of the pod in `podDir`. */
export function volumeDirectory(podDir: string, volumeName: string): string {
  return join(podDir, 'volumes', volumeName);
}

/** The host file standing in for a container's termination-message file. */
export function terminationMessageHostPath(podDir: string, containerName: string): string {
  return join(podDir, 'containers', containerName, 'termination-log');
}

/**
 * The relocations of one container: its termination-message path and every `volumeMounts`
 * entry (with `subPath`), most specific container path first so the longest prefix wins.
 */
export function containerRelocations(podDir: string, container: V1Container): Relocation[] {
  const relocations: Relocation[] = [
    {
      containerPath: normalise(
        container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH,
      ),
      hostPath: terminationMessageHostPath(podDir, container.name),
    },
  ];
  for (const mount of container.volumeMounts ?? []) {
    const volumeDir = volumeDirectory(podDir, mount.name);
    relocations.push({
      containerPath: normalise(mount.mountPath),
      hostPath: mount.subPath ? join(volumeDir, mount.subPath) : volumeDir,
    });
  }
  return relocations.sort((a, b) => b.containerPath.length - a.containerPath.length);
}

/**
 * Rewrites a path-like value the process will see: a value equal to a relocated container path,
 * or under one (at a `/` boundary), or a `--flag=<such a path>` argument, points into the pod
 * directory instead. Anything else is returned unchanged.
 */
export function relocate(value: string, relocations: readonly Relocation[]): string {
  const direct = relocatePath(value, relocations);
  if (direct !== undefined) return direct;
  const flag = /^(--?[^=\s]+=)(\/.*)$/.exec(value);
  if (flag) {
    const path = relocatePath(flag[2] ?? '', relocations);
    if (path !== undefined) return `${flag[1] ?? ''}${path}`;
  }
  return value;
}

function relocatePath(value: string, relocations: readonly Relocation[]): string | undefined {
  if (!value.startsWith('/')) return undefined;
  for (const { containerPath, hostPath } of relocations) {
    if (value === containerPath || value === `${containerPath}/`) return hostPath;
    if (containerPath === '/' || value.startsWith(`${containerPath}/`)) {
      return join(hostPath, value.slice(containerPath.length));
    }
  }
  return undefined;
}

/**
 * The process's working directory: `workingDir` relocated when it lies under a mount, else used
 * as is when it exists on this host, else the pod directory (as is an unset `workingDir`).
 */
export function workingDirectory(
  container: V1Container,
  relocations: readonly Relocation[],
  podDir: string,
  existsOnHost: (path: string) => boolean,
): string {
  const wanted = container.workingDir;
  if (wanted === undefined || wanted === '') return podDir;
  const relocated = relocatePath(normalise(wanted), relocations);
  if (relocated !== undefined) return relocated;
  return existsOnHost(wanted) ? wanted : podDir;
}

function normalise(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}
