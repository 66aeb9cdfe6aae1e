/**
 * Which image runs which local command on the process node. The project's own image runs the
 * sources of this checkout; test images run Node itself. Every one of them is Node, started with
 * the process node's sandbox preload (process-node/sandbox.ts), so a container sees its volume
 * mounts (the ServiceAccount token at /var/run/secrets/kubernetes.io/serviceaccount) and binds
 * its own pod IP.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { imageTable, type ImageResolver } from './process-node.ts';
import { imageRepository } from './process-node/images.ts';
import { RESULT_VERSION } from '../../operator/api/index.ts';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The repository of the project's own image; any tag maps to this checkout. */
export const PROJECT_IMAGE = 'ghcr.io/tributary-dev/tributary';

/** An image whose entrypoint is `node`, for tests that run `node -e ...`. */
export const TEST_NODE_IMAGE = 'tributary.dev/test/node:24';

/** A custom connector image that runs test/fixtures/connectors/scripted.ts. */
export const SCRIPTED_CONNECTOR_IMAGE = 'tributary.dev/test/scripted:1';

/**
 * A connector image that succeeds at once without starting Node: `/bin/sh` writes a successful
 * result document (read 1, written 1). For load: hundreds of runs a minute on two cores.
 */
export const QUICK_CONNECTOR_IMAGE = 'tributary.dev/test/quick:1';

/** The preload that gives a Node container process its mounts and pod IP. */
export const SANDBOX_PRELOAD = join(ROOT, 'dev', 'cluster', 'process-node', 'sandbox-preload.ts');

/**
 * The default image map: the project image (the one manifests/install.yaml and the chart name,
 * any tag) runs `node operator/cli.ts` from this checkout, the test images run `node` and the
 * scripted connector; all with this process's Node (24) and the sandbox preload.
 */
export function defaultImages(): ImageResolver {
  const node = [process.execPath, '--import', pathToFileURL(SANDBOX_PRELOAD).href];
  return imageTable({
    [PROJECT_IMAGE]: { entrypoint: [...node, join(ROOT, 'operator', 'cli.ts')] },
    [imageRepository(TEST_NODE_IMAGE)]: { entrypoint: node },
    [imageRepository(QUICK_CONNECTOR_IMAGE)]: { entrypoint: ['/bin/sh', '-c', quickScript()] },
    [imageRepository(SCRIPTED_CONNECTOR_IMAGE)]: {
      entrypoint: [...node, join(ROOT, 'test', 'fixtures', 'connectors', 'scripted.ts')],
    },
  });
}

/** The shell of {@link QUICK_CONNECTOR_IMAGE}: one successful result, drift checks included. */
function quickScript(): string {
  const stats = { read: 1, written: 1, unchanged: 0, quarantined: 0, failed: 0 };
  const sync = JSON.stringify({ version: RESULT_VERSION, outcome: 'Succeeded', stats });
  const drift = JSON.stringify({
    version: RESULT_VERSION,
    outcome: 'Succeeded',
    stats,
    drift: { missing: 0, unexpected: 0, mismatched: 0 },
  });
  return [
    `result='${sync}'`,
    `[ "$TRIBUTARY_RUN_KIND" = drift-check ] && result='${drift}'`,
    'echo "quick connector: $TRIBUTARY_RUN_KIND"',
    'printf %s "$result" > "${TRIBUTARY_RESULT_PATH:-/dev/termination-log}"',
  ].join('\n');
}
