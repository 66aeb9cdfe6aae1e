/* eslint-disable @typescript-eslint/no-misused-spread --
   client-node models are plain data classes; fixtures are object literals, as the API sends. */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerEnvironment, fieldValue } from '../../../dev/cluster/process-node/env.ts';
import { expand } from '../../../dev/cluster/process-node/expansion.ts';
import {
  containerArgv,
  imageRepository,
  imageTable,
} from '../../../dev/cluster/process-node/images.ts';
import {
  podReferences,
  type ObjectData,
  type PodObjects,
} from '../../../dev/cluster/process-node/objects.ts';
import {
  containerRelocations,
  podDirectory,
  relocate,
  workingDirectory,
} from '../../../dev/cluster/process-node/paths.ts';
import { planContainers, type PodHost } from '../../../dev/cluster/process-node/prepare.ts';
import { StartProblem } from '../../../dev/cluster/process-node/problems.ts';
import { parseSandbox, SANDBOX_ENV } from '../../../dev/cluster/process-node/sandbox.ts';
import {
  abandonWaiting,
  exitCodeOf,
  podPhase,
  podStatus,
  type ContainerState,
  type PodView,
} from '../../../dev/cluster/process-node/status.ts';
import { tailLog, terminationMessage } from '../../../dev/cluster/process-node/termination.ts';
import { volumeFiles } from '../../../dev/cluster/process-node/volumes.ts';

const POD_DIR = '/work/pods/ns/run-abcdef12';
const T0 = new Date('2025-01-01T00:00:00Z');
const T1 = new Date('2025-01-01T00:00:05Z');
const T2 = new Date('2025-01-01T00:00:09Z');

const data = (entries: Record<string, string>): ObjectData =>
  Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));

function objects(
  secrets: Record<string, Record<string, string>> = {},
  configMaps: Record<string, Record<string, string>> = {},
): PodObjects {
  const toMap = (m: Record<string, Record<string, string>>) =>
    new Map(Object.entries(m).map(([name, d]) => [name, data(d)] as const));
  return {
    secrets: toMap(secrets),
    configMaps: toMap(configMaps),
    serviceAccountTokens: new Map(),
  };
}

function mainContainer(container: Partial<V1Container> = {}): V1Container {
  return { name: 'main', image: 'tributary.dev/test-node:1', ...container };
}

function pod(container: Partial<V1Container> = {}, spec: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: {
      name: 'run',
      namespace: 'ns',
      uid: 'abcdef12-3456',
      labels: { app: 'x', 'b/c': 'y' },
      annotations: { note: 'a"b' },
    },
    spec: {
      nodeName: 'process-node',
      serviceAccountName: 'runner',
      containers: [mainContainer(container)],
      ...spec,
    },
  };
}

const problemOf = (fn: () => unknown): { reason: string; message: string } | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!(error instanceof StartProblem)) throw error;
    return { reason: error.reason, message: error.message };
  }
};

describe('expand ($(VAR) as Kubernetes does)', () => {
  const vars: Record<string, string> = { A: 'alpha', EMPTY: '' };
  const lookup = (name: string) => vars[name];
  it.each([
    ['plain', 'plain'],
    ['$(A)', 'alpha'],
    ['x-$(A)-y', 'x-alpha-y'],
    ['$(EMPTY)|', '|'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$', '$'],
    ['$A', '$A'],
    ['$(A', '$(A'],
    ['tail$', 'tail$'],
    ['$(A)$(A)', 'alphaalpha'],
  ])('%s → %s', (input, expected) => {
    expect(expand(input, lookup)).toBe(expected);
  });
});

describe('containerEnvironment', () => {
  const service = { KUBERNETES_SERVICE_HOST: '127.0.0.1' };
  const objs = objects(
    { creds: { apiKey: 'sk_live', user: 'u' } },
    { cfg: { mode: 'fast', 'bad=key': 'x' } },
  );
  it.each<[string, Partial<V1Container>, Record<string, string>]>([
    ['literal values', { env: [{ name: 'A', value: '1' }] }, { A: '1' }],
    [
      'expansion against earlier vars and service env, not later ones',
      {
        env: [
          { name: 'B', value: '$(A)-$(KUBERNETES_SERVICE_HOST)' },
          { name: 'A', value: 'a' },
          { name: 'C', value: '$(A)' },
        ],
      },
      { B: '$(A)-127.0.0.1', A: 'a', C: 'a' },
    ],
    [
      'secretKeyRef and configMapKeyRef',
      {
        env: [
          { name: 'KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'apiKey' } } },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
        ],
      },
      { KEY: 'sk_live', MODE: 'fast' },
    ],
    [
      'optional references that are missing are skipped',
      {
        env: [
          { name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
          {
            name: 'Y',
            valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } },
          },
        ],
      },
      {},
    ],
    [
      'fieldRef',
      {
        env: [
          { name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      },
      {
        N: 'run',
        NS: 'ns',
        UID: 'abcdef12-3456',
        NODE: 'process-node',
        SA: 'runner',
        IP: '127.0.0.1',
        APP: 'x',
      },
    ],
    [
      'envFrom with prefix, invalid keys dropped, env overrides envFrom',
      {
        envFrom: [
          { configMapRef: { name: 'cfg' }, prefix: 'CFG_' },
          { secretRef: { name: 'creds' } },
        ],
        env: [{ name: 'user', value: 'override' }],
      },
      { CFG_mode: 'fast', apiKey: 'sk_live', user: 'override' },
    ],
    [
      'optional envFrom that is missing',
      { envFrom: [{ secretRef: { name: 'nope', optional: true } }] },
      {},
    ],
  ])('%s', (_name, container, expected) => {
    expect(containerEnvironment(pod(), mainContainer(container), objs, service)).toEqual(expected);
  });

  it.each<[string, Partial<V1Container>, string]>([
    [
      'missing Secret',
      { env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } }] },
      'secret "x" not found',
    ],
    [
      'missing Secret key',
      { env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] },
      "couldn't find key k in Secret ns/creds",
    ],
    [
      'missing ConfigMap',
      { env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }] },
      'configmap "c" not found',
    ],
    [
      'missing ConfigMap key',
      { env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] },
      "couldn't find key k in ConfigMap ns/cfg",
    ],
    [
      'missing envFrom Secret',
      { envFrom: [{ secretRef: { name: 'gone' } }] },
      'secret "gone" not found',
    ],
  ])('%s → CreateContainerConfigError', (_name, container, message) => {
    const problem = problemOf(() =>
      containerEnvironment(pod(), mainContainer(container), objs, service),
    );
    expect(problem).toEqual({ reason: 'CreateContainerConfigError', message });
  });

  it('formats labels and annotations like the downward API', () => {
    expect(fieldValue(pod(), { fieldPath: 'metadata.labels' })).toBe('app="x"\nb/c="y"');
    expect(fieldValue(pod(), { fieldPath: 'metadata.annotations' })).toBe('note="a\\"b"');
  });
});

describe('path relocation', () => {
  const container: V1Container = {
    name: 'main',
    terminationMessagePath: '/tmp/result.json',
    volumeMounts: [
      { name: 'creds', mountPath: '/etc/creds' },
      { name: 'data', mountPath: '/var/data/' },
      { name: 'data', mountPath: '/var/data/sub/deeper', subPath: 'nested' },
    ],
  };
  const relocations = containerRelocations(POD_DIR, container);
  it.each([
    ['/etc/creds', `${POD_DIR}/volumes/creds`],
    ['/etc/creds/', `${POD_DIR}/volumes/creds`],
    ['/etc/creds/token', `${POD_DIR}/volumes/creds/token`],
    ['/etc/credsX/token', '/etc/credsX/token'],
    ['/var/data/x/y', `${POD_DIR}/volumes/data/x/y`],
    ['/var/data/sub/deeper/f', `${POD_DIR}/volumes/data/nested/f`],
    ['/tmp/result.json', `${POD_DIR}/containers/main/termination-log`],
    ['/tmp/other', '/tmp/other'],
    ['--token-file=/etc/creds/token', `--token-file=${POD_DIR}/volumes/creds/token`],
    ['--name=value', '--name=value'],
    ['relative/etc/creds', 'relative/etc/creds'],
  ])('%s → %s', (value, expected) => {
    expect(relocate(value, relocations)).toBe(expected);
  });

  it('defaults the termination message path to /dev/termination-log', () => {
    const defaults = containerRelocations(POD_DIR, { name: 'c' });
    expect(relocate('/dev/termination-log', defaults)).toBe(
      `${POD_DIR}/containers/c/termination-log`,
    );
  });

  it.each<[string, string | undefined, boolean, string]>([
    ['unset → pod dir', undefined, true, POD_DIR],
    ['under a mount → relocated', '/var/data/work', false, `${POD_DIR}/volumes/data/work`],
    ['existing host dir → as is', '/usr', true, '/usr'],
    ['missing host dir → pod dir', '/app', false, POD_DIR],
  ])('working dir: %s', (_name, workingDir, exists, expected) => {
    const c = { ...container, ...(workingDir === undefined ? {} : { workingDir }) };
    expect(workingDirectory(c, relocations, POD_DIR, () => exists)).toBe(expected);
  });

  it('names pod directories <ns>/<pod>-<uid8>', () => {
    expect(podDirectory('/w', 'ns', 'run', 'abcdef12-3456-7890')).toBe('/w/pods/ns/run-abcdef12');
  });
});

describe('images', () => {
  const NODE = { entrypoint: ['/opt/node24/bin/node'] };
  const resolve = imageTable({
    'tributary.dev/test-node': NODE,
    'exact:pinned': { entrypoint: ['/bin/x'] },
  });
  it.each([
    ['tributary.dev/test-node', NODE.entrypoint],
    ['tributary.dev/test-node:1.2.3', NODE.entrypoint],
    ['tributary.dev/test-node@sha256:abc', NODE.entrypoint],
    ['tributary.dev/test-node:1@sha256:abc', NODE.entrypoint],
    ['exact:pinned', ['/bin/x']],
    ['exact:other', undefined],
    ['tributary.dev/other', undefined],
  ])('%s', (image, entrypoint) => {
    expect(resolve(image)?.entrypoint).toEqual(entrypoint);
  });

  it.each([
    ['localhost:5000/a/b:1', 'localhost:5000/a/b'],
    ['localhost:5000/a/b', 'localhost:5000/a/b'],
    ['busybox', 'busybox'],
  ])('repository of %s is %s', (image, repository) => {
    expect(imageRepository(image)).toBe(repository);
  });

  it.each<[string, Partial<V1Container>, string[]]>([
    ['entrypoint + args', { args: ['-e', '$(CODE)'] }, ['/opt/node24/bin/node', '-e', 'run()']],
    [
      'command replaces the entrypoint',
      { command: ['sh', '-c'], args: ['echo $(X)'] },
      ['sh', '-c', 'echo $(X)'],
    ],
    ['no command, no args', {}, ['/opt/node24/bin/node']],
    ['command expansion', { command: ['$(CODE)'] }, ['run()']],
  ])('argv: %s', (_name, container, argv) => {
    expect(containerArgv({ name: 'c', ...container }, NODE, { CODE: 'run()' })).toEqual(argv);
  });
});

describe('planContainers', () => {
  const host: PodHost = {
    podDir: POD_DIR,
    images: imageTable({ 'tributary.dev/test-node': { entrypoint: ['/node'] } }),
    baseEnv: { PATH: '/opt/node/bin', HOME: '/root' },
    serviceEnv: { KUBERNETES_SERVICE_HOST: '127.0.0.1' },
    existsOnHost: () => false,
    logPath: (c) => `/logs/${c}.log`,
  };

  it('relocates args and env values, sets HOME to the pod dir and keeps base env lowest', () => {
    const p = pod({
      args: ['/etc/creds/key', '--out=/dev/termination-log'],
      env: [
        { name: 'TERM_PATH', value: '/dev/termination-log' },
        { name: 'PATH', value: '/custom' },
      ],
      volumeMounts: [{ name: 'creds', mountPath: '/etc/creds' }],
    });
    const plan = planContainers(p, objects(), host);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    const [main] = plan.containers;
    expect(main?.argv).toEqual([
      '/node',
      `${POD_DIR}/volumes/creds/key`,
      `--out=${POD_DIR}/containers/main/termination-log`,
    ]);
    const { [SANDBOX_ENV]: sandbox, ...env } = main?.env ?? {};
    expect(env).toEqual({
      PATH: '/custom',
      HOME: POD_DIR,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      TERM_PATH: `${POD_DIR}/containers/main/termination-log`,
    });
    expect(parseSandbox(sandbox)?.ip).toBe('127.0.0.1');
    expect(main?.cwd).toBe(POD_DIR);
  });

  it('gives the container a sandbox: its pod IP and the mounts that do not exist on the host', () => {
    const p = pod({
      volumeMounts: [
        { name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    });
    const plan = planContainers(p, objects(), {
      ...host,
      podIP: '127.64.1.2',
      existsOnHost: (path) => path === '/tmp',
    });
    if (!plan.ok) throw new Error('not planned');
    expect(parseSandbox(plan.containers[0]?.env[SANDBOX_ENV])).toEqual({
      ip: '127.64.1.2',
      mounts: [
        {
          containerPath: '/var/run/secrets/kubernetes.io/serviceaccount',
          hostPath: `${POD_DIR}/volumes/token`,
        },
        {
          containerPath: '/dev/termination-log',
          hostPath: `${POD_DIR}/containers/main/termination-log`,
        },
      ],
    });
  });

  it.each<[string, Partial<V1Container>, ContainerState]>([
    [
      'unknown image',
      { image: 'ghcr.io/acme/connector:1' },
      {
        kind: 'waiting',
        reason: 'ErrImagePull',
        message:
          'Failed to pull image "ghcr.io/acme/connector:1": the process node has no local mapping for it',
      },
    ],
    [
      'missing secret',
      { env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } }] },
      { kind: 'waiting', reason: 'CreateContainerConfigError', message: 'secret "x" not found' },
    ],
  ])('%s: nothing starts and the container waits', (_name, container, state) => {
    const main = mainContainer(container);
    const sidecar = { name: 'sidecar', image: 'tributary.dev/test-node' };
    const plan = planContainers(pod({}, { containers: [main, sidecar] }), objects(), host);
    expect(plan).toEqual({
      ok: false,
      waiting: [
        { name: 'main', image: main.image, state },
        {
          name: 'sidecar',
          image: 'tributary.dev/test-node',
          state: { kind: 'waiting', reason: 'ContainerCreating' },
        },
      ],
    });
  });
});

describe('volumes', () => {
  const objs = objects({ creds: { apiKey: 'sk', other: 'o' } }, { cfg: { a: '1' } });
  const files = (volume: Parameters<typeof volumeFiles>[1]) =>
    volumeFiles(pod(), volume, objs).map((f) => [f.path, f.content.toString(), f.mode.toString(8)]);

  it.each<[string, Parameters<typeof volumeFiles>[1], string[][]]>([
    [
      'secret, all keys',
      { name: 'v', secret: { secretName: 'creds' } },
      [
        ['apiKey', 'sk', '644'],
        ['other', 'o', '644'],
      ],
    ],
    [
      'secret items with modes',
      {
        name: 'v',
        secret: {
          secretName: 'creds',
          defaultMode: 0o400,
          items: [
            { key: 'apiKey', path: 'k/key' },
            { key: 'other', path: 'o', mode: 0o600 },
          ],
        },
      },
      [
        ['k/key', 'sk', '400'],
        ['o', 'o', '600'],
      ],
    ],
    ['configMap', { name: 'v', configMap: { name: 'cfg' } }, [['a', '1', '644']]],
    ['optional missing secret', { name: 'v', secret: { secretName: 'nope', optional: true } }, []],
    ['emptyDir', { name: 'v', emptyDir: {} }, []],
    [
      'downwardAPI',
      {
        name: 'v',
        downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] },
      },
      [['name', 'run', '644']],
    ],
    [
      'projected',
      {
        name: 'v',
        projected: {
          sources: [
            { configMap: { name: 'cfg', items: [{ key: 'a', path: 'ca.crt' }] } },
            {
              downwardAPI: {
                items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
              },
            },
          ],
        },
      },
      [
        ['ca.crt', '1', '644'],
        ['namespace', 'ns', '644'],
      ],
    ],
  ])('%s', (_name, volume, expected) => {
    expect(files(volume)).toEqual(expected);
  });

  it.each<[string, Parameters<typeof volumeFiles>[1], string]>([
    [
      'missing secret',
      { name: 'v', secret: { secretName: 'nope' } },
      'MountVolume.SetUp failed for volume "v" : secret "nope" not found',
    ],
    [
      'missing key',
      { name: 'v', secret: { secretName: 'creds', items: [{ key: 'zz', path: 'z' }] } },
      'MountVolume.SetUp failed for volume "v" : references non-existent secret key: zz',
    ],
  ])('%s → ContainerCreating', (_name, volume, message) => {
    expect(problemOf(() => volumeFiles(pod(), volume, objs))).toEqual({
      reason: 'ContainerCreating',
      message,
    });
  });

  it('collects every referenced object', () => {
    const p = pod(
      {
        envFrom: [{ configMapRef: { name: 'c1' } }],
        env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 's1', key: 'k' } } }],
      },
      {
        volumes: [
          {
            name: 'v',
            projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'api' } }] },
          },
        ],
      },
    );
    const refs = podReferences(p);
    expect([...refs.secrets]).toEqual(['s1']);
    expect([...refs.configMaps]).toEqual(['c1']);
    expect([...refs.tokens]).toEqual([['api', { audience: 'api', expirationSeconds: 3600 }]]);
  });
});

describe('termination message', () => {
  const log = Buffer.from(Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
  it.each<[string, Buffer | undefined, string | undefined, number, string]>([
    ['file wins', Buffer.from('{"ok":true}'), 'FallbackToLogsOnError', 1, '{"ok":true}'],
    ['File policy ignores logs', Buffer.from(''), 'File', 1, ''],
    ['no fallback on success', Buffer.from(''), 'FallbackToLogsOnError', 0, ''],
    ['missing file, no fallback', undefined, undefined, 2, ''],
    ['truncated to 4096 bytes', Buffer.alloc(5000, 'a'), undefined, 0, 'a'.repeat(4096)],
  ])('%s', (_name, file, policy, exitCode, expected) => {
    expect(terminationMessage({ file, policy, exitCode, logTail: log })).toBe(expected);
  });

  it('falls back to the last 80 lines of the log on error', () => {
    const message = terminationMessage({
      file: Buffer.from(''),
      policy: 'FallbackToLogsOnError',
      exitCode: 1,
      logTail: log,
    });
    expect(message.startsWith('line 20\n')).toBe(true);
    expect(message.endsWith('line 99\n')).toBe(true);
  });

  it.each<[string, string, number, number, string]>([
    ['last lines', 'a\nb\nc\n', 2, 100, 'b\nc\n'],
    ['no trailing newline', 'a\nb\nc', 2, 100, 'b\nc'],
    ['fewer lines than asked', 'a\nb', 5, 100, 'a\nb'],
    ['leading empty line', '\nabc', 3, 100, '\nabc'],
    ['byte limit keeps the end', 'a\n0123456789', 5, 4, '6789'],
    ['empty', '', 80, 2048, ''],
  ])('tailLog: %s', (_name, text, lines, bytes, expected) => {
    expect(tailLog(Buffer.from(text), lines, bytes)).toBe(expected);
  });
});

describe('pod status', () => {
  const running: ContainerState = { kind: 'running', containerID: 'process://42', startedAt: T0 };
  const exited = (exitCode: number): ContainerState => ({
    kind: 'terminated',
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    message: exitCode === 0 ? 'hello' : '',
    containerID: 'process://42',
    startedAt: T0,
    finishedAt: T1,
  });
  const waiting: ContainerState = { kind: 'waiting', reason: 'ErrImagePull', message: 'no' };
  const view = (states: ContainerState[], failure?: PodView['failure']): PodView => ({
    containers: states.map((state, i) => ({ name: `c${i}`, image: 'img', state })),
    startTime: T0,
    ...(failure ? { failure } : {}),
  });

  it.each<[string, PodView, string]>([
    ['waiting', view([waiting]), 'Pending'],
    ['waiting beats running', view([running, waiting]), 'Pending'],
    ['running', view([running, exited(0)]), 'Running'],
    ['all exit 0', view([exited(0), exited(0)]), 'Succeeded'],
    ['one non-zero exit', view([exited(0), exited(1)]), 'Failed'],
    ['node failure', view([exited(0)], { reason: 'DeadlineExceeded', message: 'm' }), 'Failed'],
  ])('phase: %s', (_name, v, phase) => {
    expect(podPhase(v)).toBe(phase);
  });

  it.each<[number | null, NodeJS.Signals | null, number]>([
    [0, null, 0],
    [3, null, 3],
    [null, 'SIGTERM', 143],
    [null, 'SIGKILL', 137],
  ])('exit code of (%s, %s) is %s', (code, signal, expected) => {
    expect(exitCodeOf(code, signal)).toBe(expected);
  });

  it('reports a running pod as the kubelet does', () => {
    const status = podStatus({ qosClass: 'BestEffort' }, view([running]), T1);
    expect(status).toMatchObject({
      phase: 'Running',
      qosClass: 'BestEffort',
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      startTime: T0,
      containerStatuses: [
        {
          name: 'c0',
          ready: true,
          started: true,
          restartCount: 0,
          image: 'img',
          imageID: 'process://img',
          containerID: 'process://42',
          state: { running: { startedAt: T0 } },
        },
      ],
    });
    expect(status.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
  });

  it('reports termination, keeps foreign conditions and unchanged transition times', () => {
    const previous = podStatus(undefined, view([running]), T0);
    previous.conditions?.push({ type: 'DisruptionTarget', status: 'True', lastTransitionTime: T0 });
    const status = podStatus(previous, view([exited(0)]), T2);
    const byType = new Map(status.conditions?.map((c) => [c.type, c]));
    expect(status.phase).toBe('Succeeded');
    expect(byType.get('Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
      lastTransitionTime: T2,
    });
    expect(byType.get('PodScheduled')?.lastTransitionTime).toEqual(T0);
    expect(byType.get('DisruptionTarget')?.status).toBe('True');
    expect(status.containerStatuses?.[0]).toMatchObject({
      ready: false,
      started: false,
      state: {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          message: 'hello',
          startedAt: T0,
          finishedAt: T1,
          containerID: 'process://42',
        },
      },
    });
  });

  it('reports DeadlineExceeded and unready containers on failure', () => {
    const failure = {
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    };
    const status = podStatus(undefined, view([exited(137)], failure), T2);
    expect(status).toMatchObject({ phase: 'Failed', ...failure });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [c0]',
    });
  });

  it('reports waiting containers of a Pending pod', () => {
    const status = podStatus(undefined, view([waiting]), T0);
    expect(status.phase).toBe('Pending');
    expect(status.containerStatuses?.[0]?.state).toEqual({
      waiting: { reason: 'ErrImagePull', message: 'no' },
    });
  });

  it('marks containers that never ran as ContainerStatusUnknown when the pod is finished', () => {
    const [abandoned] = abandonWaiting(view([waiting]).containers, T1);
    expect(abandoned?.state).toEqual({
      kind: 'terminated',
      exitCode: 137,
      reason: 'ContainerStatusUnknown',
      message: 'The container could not be located when the pod was terminated',
      finishedAt: T1,
    });
  });
});

describe('containerArgv rewriting', () => {
  it('rewrites what the pod spec gives, never the image entrypoint (a host path)', () => {
    const argv = containerArgv(
      { name: 'c', image: 'x', args: ['--out', '/tmp/result'] },
      { entrypoint: ['/tmp/checkout/node_modules/node/bin/node', '/tmp/checkout/cli.ts'] },
      {},
      (value) => value.replace(/^\/tmp\//, '/pod/tmp/'),
    );
    expect(argv).toEqual([
      '/tmp/checkout/node_modules/node/bin/node',
      '/tmp/checkout/cli.ts',
      '--out',
      '/pod/tmp/result',
    ]);
  });
});
