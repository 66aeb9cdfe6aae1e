/**
 * Where the packaging tools built by `test/tools/build.sh` (run by `npm run setup`) live, and a
 * way to run them from tests. The versions are read from `versions.env`, the file `build.sh` also
 * sources; `lua` is Debian's `lua5.1`, found on PATH.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { cacheRoot, parseEnvFile } from '../../dev/cluster/binaries.ts';

/** The tools tests can run. */
export type ToolName = 'helm' | 'promtool' | 'kstatus' | 'lua';

/** What a tool run returned: its exit code and its whole output. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The cache key of our own kstatus program beyond the cli-utils version: the first 12 hex digits
 * of sha256(go.mod + go.sum + main.go), as `kstatus_key` in build.sh computes it.
 */
function kstatusKey(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) {
    hash.update(readFileSync(join(import.meta.dirname, 'kstatus', file)));
  }
  return hash.digest('hex').slice(0, 12);
}

function cachedPath(name: Exclude<ToolName, 'lua'>, root: string): string {
  const versions = parseEnvFile(readFileSync(join(import.meta.dirname, 'versions.env'), 'utf8'));
  switch (name) {
    case 'helm':
      return join(root, `helm-${versions.HELM_VERSION ?? ''}`, 'helm');
    case 'promtool':
      return join(root, `promtool-${versions.PROMETHEUS_VERSION ?? ''}`, 'promtool');
    case 'kstatus':
      return join(root, `kstatus-${versions.CLI_UTILS_VERSION ?? ''}-${kstatusKey()}`, 'kstatus');
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  return dirs.map((dir) => join(dir, command)).find(isExecutable);
}

/**
 * The path of a tool's binary: the cached build for helm, promtool and kstatus, `lua5.1` on PATH
 * for lua. Throws "<tool> is not built: run `npm run setup`" when it is missing.
 */
export function toolPath(name: ToolName, root = cacheRoot()): string {
  const path = name === 'lua' ? onPath('lua5.1') : cachedPath(name, root);
  if (path === undefined || !isExecutable(path)) {
    const looked = path ?? 'lua5.1 on PATH';
    throw new Error(`${name} is not built: run \`npm run setup\` (no ${looked})`);
  }
  return path;
}

/**
 * Runs a tool synchronously with `args` (and `input` on stdin) and returns its exit code and
 * output; a non-zero exit is returned, not thrown. Throws if the tool is missing, cannot be
 * started or is killed by a signal.
 */
export function runTool(name: ToolName, args: readonly string[], input?: string): ToolResult {
  const result = spawnSync(toolPath(name), args, {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  if (result.status === null) {
    throw new Error(`${name} was killed by ${result.signal ?? 'a signal'}: ${result.stderr}`);
  }
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
