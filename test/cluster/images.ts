/**
 * Which image runs which local command on the process node. The project's own image runs the
 * sources of this checkout; test images run Node itself.
 */
import { join } from 'node:path';
import type { ImageResolver } from './process-node.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The repository of the project's own image; any tag maps to this checkout. */
export const PROJECT_IMAGE = 'ghcr.io/tributary-dev/tributary';

/** An image whose entrypoint is `node`, for tests that run `node -e ...`. */
export const TEST_NODE_IMAGE = 'tributary.dev/test/node:24';

/** A custom connector image that runs test/fixtures/connectors/scripted.ts. */
export const SCRIPTED_CONNECTOR_IMAGE = 'tributary.dev/test/scripted:1';

/** Strips the tag or digest from an image reference. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
}

/**
 * The default image map: the project image runs `node operator/cli.ts` from this checkout, the
 * test image runs `node`; `extra` (repository → entrypoint) adds or overrides mappings.
 */
export function defaultImages(extra: Record<string, string[]> = {}): ImageResolver {
  const node = process.execPath;
  const map: Record<string, string[]> = {
    [PROJECT_IMAGE]: [node, join(ROOT, 'operator', 'cli.ts')],
    [imageRepository(TEST_NODE_IMAGE)]: [node],
    [imageRepository(SCRIPTED_CONNECTOR_IMAGE)]: [
      node,
      join(ROOT, 'test', 'fixtures', 'connectors', 'scripted.ts'),
    ],
    ...extra,
  };
  return (image) => {
    const entrypoint = map[imageRepository(image)];
    return entrypoint === undefined ? undefined : { entrypoint };
  };
}
