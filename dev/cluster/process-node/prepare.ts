import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { containerEnvironment, LOOPBACK_IP, type Environment } from './env.ts';
import { containerArgv, type ImageResolver } from './images.ts';
import type { NodeApi } from './kube.ts';
import { podReferences, type ObjectData, type PodObjects } from './objects.ts';
import {
  containerRelocations,
  relocate,
  terminationMessageHostPath,
  volumeDirectory,
  workingDirectory,
} from './paths.ts';
import { StartProblem } from './problems.ts';
import { containerSandbox, SANDBOX_ENV } from './sandbox.ts';
import type { ContainerView } from './status.ts';
import { volumeFiles, type VolumeFile } from './volumes.ts';

/** Everything needed to start one container as a local process. */
export interface PreparedContainer {
  name: string;
  image: string;
  argv: string[];
  env: Environment;
  cwd: string;
  logPath: string;
  terminationHostPath: string;
  terminationMessagePolicy: string | undefined;
}

/** The host side of a pod: its directory and the node-wide settings containers inherit. */
export interface PodHost {
  podDir: string;
  images: ImageResolver;
  /** The base environment (an image's ENV): lowest precedence. */
  baseEnv: Readonly<Environment>;
  /** Variables the kubelet injects (`KUBERNETES_SERVICE_HOST`, …), usable in `$(VAR)`. */
  serviceEnv: Readonly<Environment>;
  existsOnHost: (path: string) => boolean;
  logPath: (container: string) => string;
  /** The pod IP; also passed to the container's sandbox. Default 127.0.0.1. */
  podIP?: string;
}

/** A pod that can start now, or the waiting state of each container explaining why not. */
export type ContainersPlan =
  { ok: true; containers: PreparedContainer[] } | { ok: false; waiting: ContainerView[] };

/**
 * Plans every container of a pod (image, env, argv, working dir, all paths relocated into the pod
 * directory). When any container has a `StartProblem`, nothing starts: the failing containers
 * wait with their reason, the others with `ContainerCreating`.
 */
export function planContainers(pod: V1Pod, objects: PodObjects, host: PodHost): ContainersPlan {
  const containers = pod.spec?.containers ?? [];
  const results = containers.map((container) => {
    try {
      return planContainer(pod, container, objects, host);
    } catch (error) {
      if (error instanceof StartProblem) return error;
      throw error;
    }
  });
  if (results.every((r): r is PreparedContainer => !(r instanceof StartProblem))) {
    return { ok: true, containers: results };
  }
  const waiting = containers.map((container, index): ContainerView => {
    const result = results[index];
    const state =
      result instanceof StartProblem
        ? { kind: 'waiting' as const, reason: result.reason, message: result.message }
        : { kind: 'waiting' as const, reason: 'ContainerCreating' };
    return { name: container.name, image: container.image ?? '', state };
  });
  return { ok: false, waiting };
}

function planContainer(
  pod: V1Pod,
  container: V1Container,
  objects: PodObjects,
  host: PodHost,
): PreparedContainer {
  const image = container.image ?? '';
  const local = host.images(image);
  if (local === undefined) {
    throw new StartProblem(
      'ErrImagePull',
      `Failed to pull image "${image}": the process node has no local mapping for it`,
    );
  }
  const own = containerEnvironment(pod, container, objects, host.serviceEnv);
  const relocations = containerRelocations(host.podDir, container);
  // Only what the pod spec says is relocated: the node's own PATH and paths stay as they are.
  const relocatedOwn = Object.fromEntries(
    Object.entries(own).map(([name, value]) => [name, relocate(value, relocations)]),
  );
  const sandbox = containerSandbox(host.podIP ?? LOOPBACK_IP, relocations, host.existsOnHost);
  const env: Environment = {
    ...host.baseEnv,
    HOME: host.podDir,
    ...host.serviceEnv,
    ...relocatedOwn,
    [SANDBOX_ENV]: JSON.stringify(sandbox),
  };
  return {
    name: container.name,
    image,
    argv: containerArgv(container, local, own, (arg) => relocate(arg, relocations)),
    env,
    cwd: workingDirectory(container, relocations, host.podDir, host.existsOnHost),
    logPath: host.logPath(container.name),
    terminationHostPath: terminationMessageHostPath(host.podDir, container.name),
    terminationMessagePolicy: container.terminationMessagePolicy,
  };
}

/** The files of every volume, by volume name; throws `StartProblem('ContainerCreating')`. */
export function planVolumes(pod: V1Pod, objects: PodObjects): Map<string, VolumeFile[]> {
  return new Map((pod.spec?.volumes ?? []).map((v) => [v.name, volumeFiles(pod, v, objects)]));
}

/** Fetches the Secrets, ConfigMaps and projected tokens the pod refers to. */
export async function fetchPodObjects(api: NodeApi, pod: V1Pod): Promise<PodObjects> {
  const namespace = pod.metadata?.namespace ?? '';
  const refs = podReferences(pod);
  const fetchAll = async (
    names: Set<string>,
    read: (ns: string, name: string) => Promise<ObjectData | undefined>,
  ) =>
    new Map(
      await Promise.all(
        [...names].map(async (name) => [name, await read(namespace, name)] as const),
      ),
    );
  // A token that cannot be issued (e.g. no such ServiceAccount yet) leaves its volume unready.
  const tokens = await Promise.all(
    [...refs.tokens].map(async ([key, t]) => {
      const token = await api
        .requestToken(pod, t.audience, t.expirationSeconds)
        .catch(() => undefined);
      return [key, token] as const;
    }),
  );
  return {
    secrets: await fetchAll(refs.secrets, (ns, name) => api.readSecret(ns, name)),
    configMaps: await fetchAll(refs.configMaps, (ns, name) => api.readConfigMap(ns, name)),
    serviceAccountTokens: new Map(tokens.filter((t): t is [string, string] => t[1] !== undefined)),
  };
}

/** Writes the pod directory: volume files, empty termination-message files, log files' dirs. */
export async function materialisePod(
  podDir: string,
  volumes: ReadonlyMap<string, VolumeFile[]>,
  containers: readonly PreparedContainer[],
): Promise<void> {
  for (const [name, files] of volumes) {
    const dir = volumeDirectory(podDir, name);
    await mkdir(dir, { recursive: true });
    for (const file of files) {
      const path = join(dir, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
      await chmod(path, file.mode);
    }
  }
  for (const container of containers) {
    await mkdir(dirname(container.terminationHostPath), { recursive: true });
    await writeFile(container.terminationHostPath, '');
    await mkdir(dirname(container.logPath), { recursive: true });
  }
}
