/**
 * The image, checked without a Docker engine: the Dockerfile's shape (stages, non-root user,
 * no shell at run time), that .dockerignore lets in every path it copies, and the image's file
 * tree assembled by hand as the stages would (production dependencies only, the compiled
 * operator) running its entrypoint from a read-only copy.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../fixtures/manifests.ts';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Parses a Dockerfile into stages (line continuations joined, comments dropped). */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines.map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest;
      stages.push({
        from: image,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [key = '', value = ''] = instruction.args.split('=');
      args.set(key, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** `COPY [--from=x] src... dest` → its flags, sources and destination. */
function parseCopy(args: string) {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
}

/**
 * Whether .dockerignore lets `path` in: the last matching pattern wins, `!` re-includes, and a
 * pattern matching a directory matches everything below it (as Docker's matcher does).
 */
function included(path: string, patterns: string[]): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let keep = true;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    const regex = globRegex(glob);
    if (prefixes.some((prefix) => regex.test(prefix))) keep = negated;
  }
  return keep;
}

/** Docker's pattern syntax: `**` any number of directories, `*` and `?` within one, dotfiles too. */
function globRegex(glob: string): RegExp {
  const body = glob
    .replace(/^\.\//, '')
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => {
      if (part.startsWith('**')) return '.*';
      if (part === '*') return '[^/]*';
      if (part === '?') return '[^/]';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${body}$`);
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const final = dockerfile.stages.at(-1) ?? { from: '', name: undefined, instructions: [] };
const resolveArg = (value: string) =>
  value.replace(/\$\{(\w+)\}/g, (_, k: string) => dockerfile.args.get(k) ?? '');
const entrypoint = JSON.parse(
  final.instructions.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? 'null',
) as string[] | null;

describe('Dockerfile', () => {
  test('builds on Node 24 LTS and runs on distroless as UID 65532, with no shell', () => {
    const nodeMajor = /^\^?(\d+)/.exec(
      (
        JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
          devDependencies: { node: string };
        }
      ).devDependencies.node,
    )?.[1];
    for (const stage of dockerfile.stages.slice(0, -1)) {
      expect(resolveArg(stage.from)).toBe(`node:${nodeMajor}-bookworm-slim`);
    }
    expect(resolveArg(final.from)).toMatch(
      new RegExp(`^gcr\\.io/distroless/nodejs${nodeMajor}-debian\\d+:nonroot$`),
    );
    expect(final.instructions.find((i) => i.keyword === 'USER')?.args).toBe('65532:65532');
    // No RUN in the final stage, and exec-form ENTRYPOINT/CMD: nothing needs /bin/sh.
    expect(final.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
    expect(entrypoint).toEqual(['/nodejs/bin/node', 'dist/operator/cli.js']);
    expect(JSON.parse(final.instructions.find((i) => i.keyword === 'CMD')?.args ?? 'null')).toEqual(
      ['operator'],
    );
  });

  test('every path copied from the build context exists and is let in by .dockerignore', () => {
    const copies = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY');
    const fromContext = copies.map((c) => parseCopy(c.args)).filter((c) => c.from === undefined);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const { sources } of fromContext) {
      for (const source of sources) {
        expect(existsSync(join(ROOT, source)), source).toBe(true);
        const files = statSync(join(ROOT, source)).isDirectory()
          ? contextFiles(ROOT, source, () => true)
          : [source];
        for (const file of files) {
          expect(included(file, ignore), `${file} is excluded by .dockerignore`).toBe(true);
        }
      }
    }
    // And nothing heavy or secret slips into the context.
    for (const path of [
      'node_modules/zod/package.json',
      'dist/operator/cli.js',
      '.git/HEAD',
      'test/unit',
    ]) {
      expect(included(path, ignore), path).toBe(false);
    }
  });

  test('every path copied from a stage names a stage that produces it', () => {
    const stageNames = dockerfile.stages.map((s) => s.name);
    for (const copy of final.instructions.filter((i) => i.keyword === 'COPY')) {
      expect(stageNames, copy.args).toContain(parseCopy(copy.args).from);
    }
  });
});

describe('the image tree, assembled as the stages would', () => {
  let dir: string;
  let app: string;
  let resultPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-image-'));
    chmodSync(dir, 0o755);
    // Stage "build": compile from a copy of exactly the build context.
    const context = join(dir, 'context');
    for (const path of contextFiles(ROOT)) cpSync(join(ROOT, path), join(context, path));
    symlinkSync(join(ROOT, 'node_modules'), join(context, 'node_modules'));
    run(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      context,
    );
    // Stage "deps": production dependencies only, from the lock file.
    const deps = join(dir, 'deps');
    cpSync(join(ROOT, 'package.json'), join(deps, 'package.json'));
    cpSync(join(ROOT, 'package-lock.json'), join(deps, 'package-lock.json'));
    run(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      deps,
    );
    // Final stage: its three COPY lines; then read-only, like the root filesystem in the pod.
    app = join(dir, 'app');
    cpSync(join(deps, 'package.json'), join(app, 'package.json'));
    cpSync(join(deps, 'node_modules'), join(app, 'node_modules'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    cpSync(join(context, 'dist/operator'), join(app, 'dist/operator'), { recursive: true });
    chmodRecursive(app, false);
    resultPath = join(dir, 'termination-log');
    writeFileSync(resultPath, '');
    chmodSync(resultPath, 0o666);
  }, 300_000);

  afterAll(() => {
    if (app) chmodRecursive(app, true);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('holds production dependencies only', () => {
    const installed = new Set(readdirSync(join(app, 'node_modules')));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const name of Object.keys(pkg.dependencies))
      expect(installed, name).toContain(name.split('/')[0]);
    for (const name of ['typescript', 'vitest', 'eslint', 'cdk8s', 'node', 'prettier']) {
      expect(installed.has(name), `${name} must not be in the image`).toBe(false);
    }
  });

  test('the entrypoint loads every module it imports and answers --help', () => {
    const result = entrypointRun(['--help']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: tributary <command>');
  });

  test('the entrypoint validates manifests (tributary validate)', () => {
    const result = entrypointRun(['validate', join(ROOT, 'examples', 'stripe-customers.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/Integration \S+: valid/);
    expect(result.status).toBe(0);
  });

  test('sync and drift-check fail cleanly, with the config error exit code, without a run', () => {
    for (const command of ['sync', 'drift-check']) {
      const result = entrypointRun([command]);
      expect(result.status, result.stderr).toBe(78);
      expect(result.stderr).toContain('TRIBUTARY_RUN is missing');
      expect(JSON.parse(readFileSync(resultPath, 'utf8'))).toMatchObject({ outcome: 'Failed' });
    }
  });

  function entrypointRun(args: string[]) {
    const [, script = ''] = entrypoint ?? [];
    // As the image's user where the test may switch to it, so the read-only tree is read-only.
    const user = process.getuid?.() === 0 ? { uid: 65532, gid: 65532 } : {};
    return spawnSync(process.execPath, [script, ...args], {
      cwd: app,
      env: {
        PATH: '/nonexistent',
        NODE_ENV: 'production',
        HOME: '/nonexistent',
        TRIBUTARY_RESULT_PATH: resultPath,
      },
      encoding: 'utf8',
      timeout: 60_000,
      ...user,
    });
  }
});

/** The build context: the repository's files that .dockerignore lets in. */
function contextFiles(
  root: string,
  dir = '',
  keep = (path: string) => included(path, ignore),
): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (['.git', 'node_modules', 'dist'].includes(path)) continue;
    if (entry.isDirectory()) files.push(...contextFiles(root, path, keep));
    else if (keep(path)) files.push(path);
  }
  return files;
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

function chmodRecursive(path: string, writable: boolean): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      if (writable) chmodSync(child, 0o755);
      chmodRecursive(child, writable);
      if (!writable) chmodSync(child, 0o555);
    } else if (entry.isFile()) {
      chmodSync(child, writable ? 0o644 : 0o444);
    }
  }
  chmodSync(path, writable ? 0o755 : 0o555);
}
