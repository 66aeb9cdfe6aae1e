/**
 * The process node's sandbox for Node containers: which mounts the file system functions
 * resolve, how a path maps, how `listen` arguments bind the pod IP, pod IP allocation, and the
 * preload itself in a real Node process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SANDBOX_PRELOAD } from '../../../dev/cluster/images.ts';
import {
  containerSandbox,
  parseSandbox,
  PodAddresses,
  randomPodAddress,
  SANDBOX_ENV,
  sandboxListenArgs,
  sandboxPath,
} from '../../../dev/cluster/process-node/sandbox.ts';

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const mounts = [
  { containerPath: `${SA}/extra`, hostPath: '/pods/p/volumes/extra' },
  { containerPath: SA, hostPath: '/pods/p/volumes/kube-api-access-x' },
  { containerPath: '/dev/termination-log', hostPath: '/pods/p/containers/main/termination-log' },
];

describe('sandbox paths', () => {
  it.each([
    [`${SA}/token`, '/pods/p/volumes/kube-api-access-x/token'],
    [SA, '/pods/p/volumes/kube-api-access-x'],
    [`${SA}/`, '/pods/p/volumes/kube-api-access-x/'],
    [`${SA}/../serviceaccount/ca.crt`, '/pods/p/volumes/kube-api-access-x/ca.crt'],
    [`${SA}/extra/a`, '/pods/p/volumes/extra/a'],
    ['/dev/termination-log', '/pods/p/containers/main/termination-log'],
    // Not at a "/" boundary, relative, or elsewhere: unchanged.
    [`${SA}-other/token`, `${SA}-other/token`],
    ['token', 'token'],
    ['/etc/hosts', '/etc/hosts'],
  ])('%s -> %s', (path, expected) => {
    expect(sandboxPath(path, mounts)).toBe(expected);
  });

  it('resolves only mounts whose container path does not exist on the host', () => {
    const relocations = [
      { containerPath: SA, hostPath: '/pods/p/volumes/token' },
      { containerPath: '/tmp', hostPath: '/pods/p/volumes/tmp' },
    ];
    expect(containerSandbox('127.64.0.1', relocations, (p) => p === '/tmp')).toEqual({
      ip: '127.64.0.1',
      mounts: [{ containerPath: SA, hostPath: '/pods/p/volumes/token' }],
    });
  });

  it('parses what it is given and ignores a malformed variable', () => {
    const sandbox = { ip: '127.64.0.1', mounts };
    expect(parseSandbox(JSON.stringify(sandbox))).toEqual(sandbox);
    expect(parseSandbox(undefined)).toBeUndefined();
    expect(parseSandbox('{')).toBeUndefined();
    expect(parseSandbox('{"mounts":[]}')).toBeUndefined();
    const relative = { ip: '127.64.0.1', mounts: [{ containerPath: 'x', hostPath: '/y' }] };
    expect(parseSandbox(JSON.stringify(relative))).toEqual({ ip: '127.64.0.1', mounts: [] });
  });
});

describe('sandbox listen', () => {
  const ip = '127.64.0.9';
  const cb = () => undefined;
  it.each<[string, unknown[], unknown[]]>([
    ['port only', [8080], [8080, ip]],
    ['port and callback', [8080, cb], [8080, ip, cb]],
    ['port, backlog, callback', [8080, 511, cb], [8080, ip, 511, cb]],
    ['numeric string port', ['8080'], ['8080', ip]],
    ['no arguments', [], [0, ip]],
    ['callback only', [cb], [0, ip, cb]],
    ['wildcard IPv4', [8080, '0.0.0.0', cb], [8080, ip, cb]],
    ['wildcard IPv6', [8080, '::'], [8080, ip]],
    ['explicit loopback is kept', [8080, '127.0.0.1'], [8080, '127.0.0.1']],
    ['options without host', [{ port: 8080 }, cb], [{ port: 8080, host: ip }, cb]],
    ['options with wildcard', [{ port: 1, host: '0.0.0.0' }], [{ port: 1, host: ip }]],
    ['options with an address', [{ port: 1, host: 'localhost' }], [{ port: 1, host: 'localhost' }]],
    ['a Unix socket path', ['/tmp/s.sock'], ['/tmp/s.sock']],
    ['options with a path', [{ path: '/tmp/s.sock' }], [{ path: '/tmp/s.sock' }]],
    ['a handle', [{ fd: 3 }], [{ fd: 3 }]],
  ])('%s', (_name, args, expected) => {
    expect(sandboxListenArgs(args, ip)).toEqual(expected);
  });
});

describe('pod addresses', () => {
  it('are in 127.64.0.0/10 and never end in .0 or .255', () => {
    expect(randomPodAddress(() => 0)).toBe('127.64.0.1');
    expect(randomPodAddress(() => 0.999_999)).toBe('127.127.255.254');
  });

  it('are unique among live pods, stable per uid and reusable once released', () => {
    // The first two draws collide; the allocator draws again.
    const draws = [0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5];
    const addresses = new PodAddresses(() => draws.shift() ?? 0);
    const a = addresses.allocate('a');
    const b = addresses.allocate('b');
    expect(a).toBe('127.64.0.1');
    expect(b).toBe('127.96.128.128');
    expect(addresses.allocate('a')).toBe(a);
    addresses.release('a');
    expect(addresses.allocate('c')).toBe('127.64.0.1');
  });
});

describe('the sandbox preload in a Node process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-sandbox-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a mounted token through fs (sync, promises, named imports) and binds the pod IP', () => {
    mkdirSync(join(dir, 'token'));
    writeFileSync(join(dir, 'token', 'token'), 'secret-token');
    const script = join(dir, 'app.mjs');
    writeFileSync(
      script,
      [
        "import fs, { existsSync, readFileSync } from 'node:fs';",
        "import { readFile } from 'node:fs/promises';",
        "import { createServer } from 'node:http';",
        `const path = '${SA}/token';`,
        'const seen = [fs.readFileSync(path, "utf8"), readFileSync(path, "utf8"),',
        '  await readFile(path, "utf8"), String(existsSync(path))];',
        'fs.accessSync(path);',
        'const server = createServer().listen(0, "0.0.0.0", () => {',
        '  console.log(JSON.stringify({ seen, address: server.address().address }));',
        '  server.close();',
        '});',
      ].join('\n'),
    );
    const sandbox = {
      ip: '127.64.3.4',
      mounts: [{ containerPath: SA, hostPath: join(dir, 'token') }],
    };
    const result = spawnSync(
      process.execPath,
      ['--import', pathToFileURL(SANDBOX_PRELOAD).href, script],
      { env: { PATH: process.env.PATH, [SANDBOX_ENV]: JSON.stringify(sandbox) }, encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      seen: ['secret-token', 'secret-token', 'secret-token', 'true'],
      address: '127.64.3.4',
    });
  });

  it('changes nothing without the variable', () => {
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(SANDBOX_PRELOAD).href,
        '-e',
        `console.log(require('fs').existsSync('${SA}'))`,
      ],
      { env: { PATH: process.env.PATH }, encoding: 'utf8' },
    );
    expect(result.stdout.trim()).toBe('false');
  });
});
