import type { V1Container } from '@kubernetes/client-node';
import type { Environment } from './env.ts';
import { expand } from './expansion.ts';

/** How an image runs locally: its entrypoint (like an image ENTRYPOINT) as a local argv prefix. */
export interface LocalImage {
  entrypoint: string[];
}

/** Maps an image reference to a local command; undefined means the image cannot be pulled. */
export type ImageResolver = (image: string) => LocalImage | undefined;

/**
 * An `ImageResolver` from a table keyed by repository (`tributary.dev/test-node`): a reference
 * matches its repository with any tag or digest (`:1.2`, `@sha256:…`), or an exact table key.
 */
export function imageTable(table: Readonly<Record<string, LocalImage>>): ImageResolver {
  return (image) => {
    if (Object.hasOwn(table, image)) return table[image];
    const repository = imageRepository(image);
    return Object.hasOwn(table, repository) ? table[repository] : undefined;
  };
}

/** An image reference without its tag and digest: `a.io:5000/x/y:1@sha256:…` → `a.io:5000/x/y`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@', 1)[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? withoutDigest : withoutDigest.slice(0, colon);
}

/**
 * The argv a container runs, as the container runtime builds it: `command` + `args` when
 * `command` is set (the image entrypoint is ignored), else the image entrypoint + `args`.
 * `$(VAR)` in command and args is expanded against the container's own environment, then
 * `rewrite` applies to what the pod spec gave (command and args), never to the image's own
 * entrypoint, which is a path on this host.
 */
export function containerArgv(
  container: V1Container,
  image: LocalImage,
  env: Readonly<Environment>,
  rewrite: (value: string) => string = (value) => value,
): string[] {
  const lookup = (name: string): string | undefined =>
    Object.hasOwn(env, name) ? env[name] : undefined;
  const command = (container.command ?? []).map((part) => rewrite(expand(part, lookup)));
  const args = (container.args ?? []).map((part) => rewrite(expand(part, lookup)));
  return command.length > 0 ? [...command, ...args] : [...image.entrypoint, ...args];
}
