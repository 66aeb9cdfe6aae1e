/**
 * Loaded with `node --import` into a container process by the images that opt in (see
 * sandbox.ts): applies the {@link Sandbox} in `TRIBUTARY_PROCESS_NODE_SANDBOX` before the
 * program's own modules load. The path-taking functions of `node:fs` (sync, callback and
 * promise forms) resolve the sandbox's mounts, and `net.Server#listen` binds the pod IP for a
 * wildcard host. Without the variable this module does nothing.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseSandbox, SANDBOX_ENV, sandboxListenArgs, sandboxPath } from './sandbox.ts';
import type { Relocation } from './paths.ts';

/** Functions whose first argument is a path (also their `Sync` and `fs.promises` forms). */
const ONE_PATH = [
  'access',
  'appendFile',
  'chmod',
  'chown',
  'createReadStream',
  'createWriteStream',
  'exists',
  'lchown',
  'lstat',
  'lutimes',
  'mkdir',
  'mkdtemp',
  'open',
  'openAsBlob',
  'opendir',
  'readdir',
  'readFile',
  'readlink',
  'realpath',
  'rm',
  'rmdir',
  'stat',
  'statfs',
  'truncate',
  'unlink',
  'unwatchFile',
  'utimes',
  'watch',
  'watchFile',
  'writeFile',
];

/** Functions whose first two arguments are paths. */
const TWO_PATHS = ['copyFile', 'cp', 'link', 'rename', 'symlink'];

type AnyFunction = (...args: unknown[]) => unknown;

function wrap(target: Record<string, unknown>, name: string, paths: number, mounts: Relocation[]) {
  const original = target[name];
  if (typeof original !== 'function') return;
  const fn = original as AnyFunction;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    for (let i = 0; i < paths && i < args.length; i++) args[i] = resolve(args[i], mounts);
    return fn.apply(this, args);
  };
  Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(fn));
  target[name] = wrapped;
}

function resolve(path: unknown, mounts: Relocation[]): unknown {
  if (typeof path === 'string') return sandboxPath(path, mounts);
  if (path instanceof URL && path.protocol === 'file:')
    return sandboxPath(fileURLToPath(path), mounts);
  return path;
}

function patchFs(mounts: Relocation[]): void {
  if (mounts.length === 0) return;
  const sync = fs as unknown as Record<string, unknown>;
  const promises = fs.promises as unknown as Record<string, unknown>;
  for (const [names, paths] of [
    [ONE_PATH, 1],
    [TWO_PATHS, 2],
  ] as const) {
    for (const name of names) {
      wrap(sync, name, paths, mounts);
      wrap(sync, `${name}Sync`, paths, mounts);
      wrap(promises, name, paths, mounts);
    }
  }
}

function patchListen(ip: string): void {
  // Called with the server as `this` below, as the original is.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const listen = net.Server.prototype.listen as AnyFunction;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    return listen.apply(this, sandboxListenArgs(args, ip)) as net.Server;
  } as typeof net.Server.prototype.listen;
}

const sandbox = parseSandbox(process.env[SANDBOX_ENV]);
if (sandbox !== undefined) {
  patchFs(sandbox.mounts);
  patchListen(sandbox.ip);
  // Named imports (`import { readFileSync } from 'node:fs'`) see the wrapped functions too.
  syncBuiltinESMExports();
}
