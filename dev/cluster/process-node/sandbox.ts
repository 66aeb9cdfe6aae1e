/**
 * What a container runtime gives a container through namespaces, emulated for Node processes:
 * a mount view (paths under a volume mount that do not exist on this host, such as the
 * ServiceAccount token at /var/run/secrets/kubernetes.io/serviceaccount, resolve to the pod
 * directory) and an own IP address (a wildcard `listen` binds the pod IP, a loopback address of
 * its own, so two replicas can both listen on their container port). The process node passes a
 * {@link Sandbox} in an environment variable; `sandbox-preload.ts`, loaded with `node --import`
 * by the images that opt in (dev/cluster/images.ts), applies it. Pure functions here.
 */
import { join, posix } from 'node:path';
import type { Relocation } from './paths.ts';

/** The environment variable carrying the JSON {@link Sandbox} to the preload. */
export const SANDBOX_ENV = 'TRIBUTARY_PROCESS_NODE_SANDBOX';

/** One container's view: its pod IP and the mounts the file system functions resolve. */
export interface Sandbox {
  /** The pod IP: where a wildcard `listen` binds. */
  ip: string;
  /** Container path → host path, most specific first. */
  mounts: Relocation[];
}

/**
 * The sandbox of a container: only the mounts whose container path does not exist on this host
 * are resolved by the file system functions (a `/tmp` emptyDir must not hide the host's `/tmp`,
 * where the pod directories themselves live); every mount is still relocated in env and args.
 */
export function containerSandbox(
  ip: string,
  relocations: readonly Relocation[],
  existsOnHost: (path: string) => boolean,
): Sandbox {
  return { ip, mounts: relocations.filter((r) => !existsOnHost(r.containerPath)) };
}

/** The sandbox in `value` (the env variable), or undefined when absent or malformed. */
export function parseSandbox(value: string | undefined): Sandbox | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<Sandbox>;
    if (typeof parsed.ip !== 'string' || !Array.isArray(parsed.mounts)) return undefined;
    const mounts = parsed.mounts.filter(
      (m): m is Relocation =>
        typeof m.containerPath === 'string' &&
        typeof m.hostPath === 'string' &&
        m.containerPath.startsWith('/'),
    );
    return { ip: parsed.ip, mounts };
  } catch {
    return undefined;
  }
}

/**
 * An absolute path as the container sees it → where it is on this host: under the most specific
 * mount (at a `/` boundary, `..` resolved first), else unchanged. Relative paths are unchanged.
 */
export function sandboxPath(path: string, mounts: readonly Relocation[]): string {
  if (!path.startsWith('/')) return path;
  const normal = posix.normalize(path);
  let best: Relocation | undefined;
  for (const mount of mounts) {
    const under = normal === mount.containerPath || normal.startsWith(`${mount.containerPath}/`);
    if (under && (best === undefined || mount.containerPath.length > best.containerPath.length))
      best = mount;
  }
  if (best === undefined) return path;
  return join(best.hostPath, normal.slice(best.containerPath.length));
}

/** The hosts a `listen` treats as "every address": they bind the pod IP instead. */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The arguments of `net.Server#listen` with a wildcard (or absent) host replaced by the pod IP,
 * in each call form: `(port[, host][, backlog][, cb])` and `(options[, cb])`. A host naming an
 * address (loopback included) is kept; a path (Unix socket) or handle is left alone.
 */
export function sandboxListenArgs(args: readonly unknown[], ip: string): unknown[] {
  const [first, second, ...rest] = args;
  if (typeof first === 'function') return [0, ip, ...args];
  if (typeof first === 'object' && first !== null) {
    if (['path', 'handle', 'fd', '_handle'].some((key) => key in first)) return [...args];
    const options = first as { host?: unknown };
    if (typeof options.host === 'string' && !WILDCARD_HOSTS.has(options.host)) return [...args];
    return [{ ...first, host: ip }, ...args.slice(1)];
  }
  const isPort =
    first === undefined ||
    typeof first === 'number' ||
    (typeof first === 'string' && /^\d+$/.test(first));
  if (!isPort) return [...args];
  if (typeof second === 'string')
    return WILDCARD_HOSTS.has(second) ? [first, ip, ...rest] : [...args];
  // (port[, backlog][, cb]): the host goes right after the port.
  return [first ?? 0, ip, ...args.slice(1)];
}

/** A random pod IP in 127.64.0.0/10 (clear of 127.0.0.0/16, where host services bind). */
export function randomPodAddress(random: () => number = Math.random): string {
  const a = 64 + Math.floor(random() * 64);
  const b = Math.floor(random() * 256);
  const c = 1 + Math.floor(random() * 254);
  return `127.${a}.${b}.${c}`;
}

/**
 * The pod IPs of one node: random loopback addresses (so that two control planes on one machine
 * rarely meet), unique among the pods the node runs.
 */
export class PodAddresses {
  readonly #byUid = new Map<string, string>();
  readonly #random: () => number;

  /** `random` is injectable for tests. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** The pod's IP, allocated on first call. */
  allocate(uid: string): string {
    const known = this.#byUid.get(uid);
    if (known !== undefined) return known;
    const used = new Set(this.#byUid.values());
    let ip = randomPodAddress(this.#random);
    for (let attempt = 0; used.has(ip) && attempt < 100; attempt++)
      ip = randomPodAddress(this.#random);
    if (used.has(ip)) throw new Error('no free pod IP');
    this.#byUid.set(uid, ip);
    return ip;
  }

  /** Frees the pod's IP. */
  release(uid: string): void {
    this.#byUid.delete(uid);
  }
}
