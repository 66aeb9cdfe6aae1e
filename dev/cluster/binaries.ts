/**
 * Where the control-plane binaries built by `npm run cluster:build` live. The versions are read
 * from `versions.env` (and kwok's from `dev/kwok/versions.env`), the files `build.sh` also
 * sources, so they are written in one place.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Paths of the control-plane binaries. etcd, kube-apiserver and kube-controller-manager are
 * checked by {@link findBinaries}; the optional ones (kube-scheduler, kwok and its stage file)
 * only by {@link requireBinary} when a cluster option needs them.
 */
export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  kubeScheduler: string;
  kwok: string;
  /** The kwok stage file assembled by `build.sh` from `dev/kwok/stages.txt`. */
  kwokStages: string;
  /** The Kubernetes version they were built from, e.g. `v1.34.4`. */
  kubernetesVersion: string;
}

/** Parses `KEY=value` lines, ignoring comments and blank lines. */
export function parseEnvFile(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1).replace(/^["']|["']$/g, '')] as const;
    });
  return Object.fromEntries(entries);
}

/** The cache root: `$TRIBUTARY_CACHE_DIR` or `~/.cache/tributary`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRIBUTARY_CACHE_DIR ?? join(homedir(), '.cache', 'tributary');
}

/**
 * Locates the binaries in the cache; throws with the command to run when any is missing.
 */
export function findBinaries(root = cacheRoot()): Binaries {
  const versions = parseEnvFile(readFileSync(join(import.meta.dirname, 'versions.env'), 'utf8'));
  const kwokDir = join(import.meta.dirname, '..', 'kwok');
  const kwok = parseEnvFile(readFileSync(join(kwokDir, 'versions.env'), 'utf8'));
  const kubernetesVersion = versions.K8S_VERSION ?? '';
  const k8sDir = join(root, `k8s-${kubernetesVersion}`);
  const kwokCache = join(root, `kwok-${kwok.KWOK_VERSION ?? ''}`);
  // build.sh names the stage file by sha256(stages.txt), so an edited list is reassembled.
  const stagesKey = createHash('sha256')
    .update(readFileSync(join(kwokDir, 'stages.txt')))
    .digest('hex')
    .slice(0, 12);
  const binaries: Binaries = {
    etcd: join(root, `etcd-${versions.ETCD_VERSION ?? ''}`, 'etcd'),
    kubeApiserver: join(k8sDir, 'kube-apiserver'),
    kubeControllerManager: join(k8sDir, 'kube-controller-manager'),
    kubectl: join(k8sDir, 'kubectl'),
    kubeScheduler: join(k8sDir, 'kube-scheduler'),
    kwok: join(kwokCache, 'kwok'),
    kwokStages: join(kwokCache, `stages-${stagesKey}.yaml`),
    kubernetesVersion,
  };
  for (const path of [binaries.etcd, binaries.kubeApiserver, binaries.kubeControllerManager]) {
    requireBinary(path);
  }
  return binaries;
}

/** Throws with the command to run when `path` is not there (and executable, unless `file`). */
export function requireBinary(path: string, { file = false } = {}): void {
  try {
    accessSync(path, file ? constants.R_OK : constants.X_OK);
  } catch {
    throw new Error(`${path} is missing: run \`npm run setup\` (or \`npm run cluster:build\`)`);
  }
}
