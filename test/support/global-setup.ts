/**
 * Vitest global set-up of the integration tier: one real control plane for the whole run,
 * shared with the test files through `inject('cluster')`.
 */
import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster, type ClusterInfo } from '../../dev/cluster/cluster.ts';
import { defaultImages } from '../../dev/cluster/images.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

let cluster: Cluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  cluster = await startCluster({
    images: defaultImages(),
    keepDir: process.env.TRIBUTARY_KEEP_CLUSTER === '1',
  });
  console.log(`control plane ready in ${Date.now() - started} ms at ${cluster.info.server}`);
  project.provide('cluster', cluster.info);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
