/**
 * What the chart offers beyond the install's objects: use as a subchart with `global` values,
 * the PodDisruptionBudget only with more than one replica, NOTES.txt, the `helm test` pod, the
 * templated-CRD mode and the Artifact Hub annotations.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { CHART_DIR, chartAppVersion } from '../../manifests/src/app.ts';
import { renderCustomResourceDefinitions } from '../../operator/api/render.ts';
import { ROOT } from '../fixtures/manifests.ts';
import { renderChartReadme } from '../../scripts/chart-readme.ts';
import { runTool } from '../tools/tools.ts';
import { helmTemplate, parseObjects, type KubeObject } from './helm.ts';

const dir = mkdtempSync(join(tmpdir(), 'tributary-chart-features-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const kinds = (objects: KubeObject[]) => objects.map((o) => `${o.kind} ${o.metadata.name}`);

describe('helm lint --strict', () => {
  test.each([
    ['one replica, an existing ServiceAccount', 'replicas=1,serviceAccount.create=false'],
    ['templated CRDs', 'crds.templated=true'],
    ['global values', 'global.imageRegistry=registry.example.com'],
  ])('is clean with %s', (_, set) => {
    const result = runTool('helm', ['lint', CHART_DIR, '--strict', '--set', set]);
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.code, result.stdout).toBe(0);
  });
});

describe('the PodDisruptionBudget', () => {
  const budgets = (replicas: number) =>
    helmTemplate({ replicas }, 'acme', 'ops').filter(
      (o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'acme-operator',
    );

  test('is absent with one replica (it would block every node drain)', () => {
    expect(budgets(1)).toEqual([]);
  });

  test('keeps one replica available with two or more', () => {
    expect(budgets(2)).toMatchObject([{ spec: { minAvailable: 1 } }]);
  });
});

describe('as a subchart', () => {
  test('renders under a parent chart that sets global values', () => {
    const parent = join(dir, 'platform');
    cpSync(CHART_DIR, join(parent, 'charts', 'tributary'), { recursive: true });
    const chart = { apiVersion: 'v2', name: 'platform', version: '1.0.0' };
    const dependencies = [{ name: 'tributary', version: '0.1.0' }];
    writeFileSync(join(parent, 'Chart.yaml'), stringify({ ...chart, dependencies }));
    const values = {
      global: { imageRegistry: 'registry.example.com', imagePullSecrets: ['registry'] },
      tributary: { replicas: 1, podLabels: { team: 'platform' } },
    };
    writeFileSync(join(parent, 'values.yaml'), stringify(values));

    const result = runTool('helm', ['template', 'platform', parent, '--namespace', 'platform']);
    expect(result.code, result.stderr).toBe(0);
    const objects = parseObjects(result.stdout);
    expect(kinds(objects)).toContain('Deployment platform-operator');
    expect(kinds(objects)).not.toContain('PodDisruptionBudget platform-operator');
    const deployment = objects.find((o) => o.kind === 'Deployment');
    expect(deployment).toMatchObject({
      spec: { replicas: 1, template: { metadata: { labels: { team: 'platform' } } } },
    });
  });
});

/** NOTES.txt rendered with `values`: `helm template` prints no notes, so `tpl` renders a copy. */
function notes(values: Record<string, unknown>): string {
  const copy = join(dir, `notes-${Object.keys(values).join('-') || 'default'}`);
  cpSync(CHART_DIR, copy, { recursive: true });
  cpSync(join(CHART_DIR, 'templates', 'NOTES.txt'), join(copy, 'files', 'notes.txt'));
  const probe = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'notes' },
    data: { notes: '{{ tpl (.Files.Get "files/notes.txt") . }}' },
  };
  writeFileSync(
    join(copy, 'templates', 'notes-probe.yaml'),
    stringify(probe).replace("'{{", '{{').replace("}}'", ' | quote }}'),
  );
  const file = join(dir, 'notes-values.yaml');
  writeFileSync(file, stringify(values));
  const args = ['template', 'acme', copy, '-n', 'ops', '-f', file];
  const result = runTool('helm', [...args, '--show-only', 'templates/notes-probe.yaml']);
  expect(result.code, result.stderr).toBe(0);
  return (parse(result.stdout) as { data: { notes: string } }).data.notes;
}

describe('NOTES.txt', () => {
  test('says what was installed and how to check it', () => {
    const text = notes({});
    expect(text).toContain('Tributary 0.1.0 is installed as release acme in namespace ops.');
    expect(text).toContain('Deployment acme-operator, 2 replica(s), watching every namespace.');
    expect(text).toContain('kubectl -n ops rollout status deployment/acme-operator');
    expect(text).toContain('helm test acme -n ops');
    expect(text).toContain('Service acme-intake, port 80');
    expect(text).toContain('ClusterRole tributary-edit');
  });

  test('names the watched namespaces and the templated CRDs when set', () => {
    const text = notes({
      watchNamespaces: ['team-a', 'team-b'],
      intake: { enabled: false },
      crds: { templated: true },
    });
    expect(text).toContain('watching the namespaces team-a, team-b.');
    expect(text).not.toContain('webhook intake');
    expect(text).toContain('kept on `helm uninstall`');
  });
});

/** The `helm test` pod as rendered. */
function testPod(values: Record<string, unknown> = {}): KubeObject & {
  spec: { containers: { command: string[]; args: string[]; image: string }[] };
} {
  const objects = helmTemplate(values, 'acme', 'ops', [
    '--show-only',
    'templates/tests/readyz.yaml',
  ]);
  expect(objects).toHaveLength(1);
  return objects[0] as ReturnType<typeof testPod>;
}

/** Runs the pod's check locally with node against `url`; its exit code and output. */
function runCheck(url: string): Promise<{ code: number | null; output: string }> {
  const [, script] = testPod().spec.containers[0]?.args ?? [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script ?? '', url, '1']);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => {
      resolve({ code, output });
    });
  });
}

describe('the helm test pod', () => {
  test('is a test hook running the operator image against its metrics Service', () => {
    const pod = testPod();
    expect(pod.metadata).toMatchObject({ annotations: { 'helm.sh/hook': 'test' } });
    const [container] = pod.spec.containers;
    expect(container?.image).toBe(`ghcr.io/tributary-dev/tributary:${chartAppVersion()}`);
    expect(container?.command).toEqual(['/nodejs/bin/node']);
    expect(container?.args.slice(2)).toEqual([
      'http://acme-operator-metrics.ops.svc:8080/readyz',
      '60',
    ]);
    // Not selected by the operator's Service or PodDisruptionBudget.
    expect(pod.metadata.labels?.['app.kubernetes.io/component']).toBe('test');
  });

  test('is absent from the installed objects', () => {
    expect(kinds(helmTemplate(undefined, 'acme', 'ops'))).not.toContain(
      'Pod acme-operator-test-readyz',
    );
  });

  test('passes on 200 and fails on 503, printing the answer', async () => {
    let status = 200;
    const server = createServer((_, response) => {
      response.writeHead(status).end(status === 200 ? 'ok' : 'informers not synced');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const url = `http://127.0.0.1:${String(port)}/readyz`;
    try {
      expect(await runCheck(url)).toEqual({ code: 0, output: `GET ${url}: 200 ok\n` });
      status = 503;
      const failed = await runCheck(url);
      expect(failed.code).toBe(1);
      expect(failed.output).toContain(`GET ${url}: 503 informers not synced`);
    } finally {
      server.close();
    }
  });
});

describe('crds.templated', () => {
  const files = [...renderCustomResourceDefinitions()].map(([, text]) => parse(text) as KubeObject);

  test('renders the CRDs of crds/ from templates, kept on uninstall', () => {
    const rendered = helmTemplate({ crds: { templated: true } }, 'acme', 'ops', []).filter(
      (o) => o.kind === 'CustomResourceDefinition',
    );
    expect(rendered.map((o) => o.metadata.name).sort()).toEqual(
      files.map((o) => o.metadata.name).sort(),
    );
    for (const crd of rendered) {
      const file = files.find((o) => o.metadata.name === crd.metadata.name);
      expect(crd.spec).toEqual(file?.spec);
      expect(crd.metadata).toMatchObject({
        annotations: { 'helm.sh/resource-policy': 'keep' },
        labels: { 'app.kubernetes.io/instance': 'acme' },
      });
    }
  });

  test('is off by default: the CRDs come from crds/ only', () => {
    const templated = helmTemplate(undefined, 'acme', 'ops', []);
    expect(templated.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
  });
});

describe('Artifact Hub annotations', () => {
  const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as {
    annotations: Record<string, string>;
  };
  const annotation = (key: string): unknown =>
    parse(chart.annotations[`artifacthub.io/${key}`] ?? '');

  test('list the image at the appVersion and every CRD', () => {
    expect(annotation('images')).toEqual([
      { name: 'tributary', image: `ghcr.io/tributary-dev/tributary:${chartAppVersion()}` },
    ]);
    const crds = (annotation('crds') as { name: string }[]).map((crd) => crd.name).sort();
    expect(crds).toEqual(crdNames().sort());
  });

  test('name the license of package.json and link the docs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(annotation('license')).toBe(pkg.license);
    const links = annotation('links') as { name: string; url: string }[];
    expect(links.map((link) => link.name)).toEqual([
      'Documentation',
      'Install',
      'Security',
      'Source',
    ]);
  });
});

/** The names of the CRDs in crds/. */
function crdNames(): string[] {
  return [...renderCustomResourceDefinitions()].map(
    ([, text]) => (parse(text) as KubeObject).metadata.name,
  );
}

describe('charts/tributary/README.md', () => {
  test('is committed as generated from values.yaml (run `npm run generate`)', () => {
    expect(readFileSync(join(CHART_DIR, 'README.md'), 'utf8')).toBe(renderChartReadme());
  });

  test('describes every value with its default', () => {
    const readme = renderChartReadme();
    for (const key of ['affinity', 'extraEnv', 'crds.templated', 'serviceAccount.name']) {
      expect(readme).toMatch(
        new RegExp(`^\\| \`${key.replace('.', '\\.')}\` \\| \`[^|]+\` \\| \\S`, 'm'),
      );
    }
  });
});
