/**
 * Rendering the chart in tests: `helm template` into parsed objects, without the labels only Helm
 * sets, keyed for comparison with what the cdk8s app renders.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { CHART_DIR } from '../../manifests/src/app.ts';
import type { InstallValuesInput } from '../../manifests/src/values.ts';
import { runTool } from '../tools/tools.ts';

/** A parsed Kubernetes object. */
export type KubeObject = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** Labels only Helm sets (release bookkeeping); everything else must match. */
const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by'];

const dir = mkdtempSync(join(tmpdir(), 'tributary-chart-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * `helm template` with `values` (and `extra` arguments); the parsed objects, without the
 * `helm test` hooks (not installed objects).
 */
export function helmTemplate(
  values: InstallValuesInput | undefined,
  release: string,
  namespace: string,
  extra: string[] = ['--include-crds', '--skip-tests'],
) {
  const args = ['template', release, CHART_DIR, '--namespace', namespace, ...extra];
  if (values !== undefined) {
    const file = join(dir, `${release}-values.yaml`);
    writeFileSync(file, stringify(values));
    args.push('--values', file);
  }
  const result = runTool('helm', args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')}:\n${result.stderr}`);
  return parseObjects(result.stdout).map(withoutHelmLabels);
}

/** The objects of a multi-document YAML text. */
export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

export function withoutHelmLabels(object: KubeObject): KubeObject {
  // crds/ is installed verbatim, untemplated: no release labels there.
  if (object.kind === 'CustomResourceDefinition') return object;
  const strip = (labels: Record<string, string> | undefined) => {
    for (const label of HELM_ONLY_LABELS) {
      expect(labels, `${object.kind}/${object.metadata.name}`).toHaveProperty([label]);
    }
    return Object.fromEntries(
      Object.entries(labels ?? {}).filter(([key]) => !HELM_ONLY_LABELS.includes(key)),
    );
  };
  object.metadata.labels = strip(object.metadata.labels);
  if (object.kind === 'Deployment' || object.kind === 'StatefulSet') {
    const { spec } = object as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    spec.template.metadata.labels = strip(spec.template.metadata.labels);
  }
  return object;
}

/** Objects keyed `Kind namespace/name`, JSON round-tripped (drops undefined). */
export function byKey(objects: KubeObject[]): Map<string, unknown> {
  const entries = objects.map((o): [string, unknown] => [
    `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`,
    JSON.parse(JSON.stringify(o)),
  ]);
  const map = new Map(entries.sort(([a], [b]) => a.localeCompare(b)));
  expect(map.size, 'duplicate objects').toBe(entries.length);
  return map;
}
