/**
 * Where the control-plane binaries built by `npm run cluster:build` live. The versions are read
 * from `versions.env`, the file `build.sh` also sources, so they are written in one place.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Paths of the four control-plane binaries. */
export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
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
  const kubernetesVersion = versions.K8S_VERSION ?? '';
  const k8sDir = join(root, `k8s-${kubernetesVersion}`);
  const binaries: Binaries = {
    etcd: join(root, `etcd-${versions.ETCD_VERSION ?? ''}`, 'etcd'),
    kubeApiserver: join(k8sDir, 'kube-apiserver'),
    kubeControllerManager: join(k8sDir, 'kube-controller-manager'),
    kubectl: join(k8sDir, 'kubectl'),
    kubernetesVersion,
  };
  for (const path of [binaries.etcd, binaries.kubeApiserver, binaries.kubeControllerManager]) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(`${path} is missing: run \`npm run cluster:build\` first`);
    }
  }
  return binaries;
}
