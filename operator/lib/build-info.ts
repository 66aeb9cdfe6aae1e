/**
 * What build this process is: the package version, the source revision when the image was built
 * with one (TRIBUTARY_REVISION, from the Dockerfile's REVISION build argument) and the Node.js
 * version; exported as `tributary_build_info` (value 1), the convention of `go_build_info` and
 * kube-state-metrics.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gauge, type Registry } from 'prom-client';

/** The labels of `tributary_build_info`. */
export interface BuildInfo {
  version: string;
  /** The source revision (a git commit), or `unknown`. */
  revision: string;
  /** `process.version` without the `v`. */
  nodejs_version: string;
}

/** The package version: from the nearest package.json named tributary above this module. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'tributary' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: look one level up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/** This process's build. */
export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  return {
    version: packageVersion(),
    revision: env['TRIBUTARY_REVISION'] || 'unknown',
    nodejs_version: process.version.replace(/^v/, ''),
  };
}

/** Registers `tributary_build_info{version, revision, nodejs_version} 1` in `registry`. */
export function registerBuildInfo(registry: Registry, info: BuildInfo = buildInfo()): void {
  const gauge = new Gauge({
    name: 'tributary_build_info',
    help: 'The build of this process (version, source revision, Node.js version); always 1.',
    labelNames: ['version', 'revision', 'nodejs_version'],
    registers: [registry],
  });
  gauge.set({ ...info }, 1);
}
