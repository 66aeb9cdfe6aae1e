/**
 * `npm run cluster:up -- --kubeconfig <path>`: starts a local control plane, writes its admin
 * kubeconfig to <path> once the API server is ready, and runs until SIGINT or SIGTERM, then
 * stops every process and removes its temp dir (and the kubeconfig it wrote).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster } from './cluster.ts';
import { defaultImages } from './images.ts';

const { values } = parseArgs({
  options: { kubeconfig: { type: 'string' }, 'keep-dir': { type: 'boolean' } },
});
if (values.kubeconfig === undefined) {
  console.error('usage: npm run cluster:up -- --kubeconfig <path> [--keep-dir]');
  process.exit(2);
}
const kubeconfig = resolve(values.kubeconfig);

const started = Date.now();
const cluster = await startCluster({ images: defaultImages(), keepDir: values['keep-dir'] });
writeFileSync(kubeconfig, cluster.kubeconfigYaml(), { mode: 0o600 });
console.log(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`  server:     ${cluster.info.server}`);
console.log(`  kubeconfig: ${kubeconfig}`);
console.log(`  kubectl:    ${cluster.info.kubectl}`);
console.log(`  logs:       ${cluster.info.dir}/logs, pods: ${cluster.info.nodeDir}`);
console.log('Ctrl-C stops it.');

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the cluster`);
  void cluster.stop().then(() => {
    rmSync(kubeconfig, { force: true });
    console.log('stopped');
    process.exit(0);
  });
};
process.on('SIGINT', () => {
  shutdown('SIGINT');
});
process.on('SIGTERM', () => {
  shutdown('SIGTERM');
});
