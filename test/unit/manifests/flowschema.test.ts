import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { installObjects } from '../../../manifests/src/app.ts';
import { parseValues } from '../../../manifests/src/values.ts';
import { ROOT } from '../../fixtures/manifests.ts';

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

const shipped = parseAllDocuments(readFileSync(join(ROOT, 'manifests', 'install.yaml'), 'utf8'))
  .map((doc) => doc.toJS() as KubeObject)
  .filter((object) => object.kind === 'FlowSchema');

describe("the operator's FlowSchema", () => {
  it("is in the install: the operator's ServiceAccount at kube-controller-manager's priority level", () => {
    expect(shipped).toHaveLength(1);
    expect(shipped[0]).toMatchObject({
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      metadata: { name: 'tributary-operator' },
      spec: {
        priorityLevelConfiguration: { name: 'workload-high' },
        matchingPrecedence: 800,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [
              {
                kind: 'ServiceAccount',
                serviceAccount: { name: 'tributary-operator', namespace: 'tributary-system' },
              },
            ],
            resourceRules: [
              {
                verbs: ['*'],
                apiGroups: ['*'],
                resources: ['*'],
                namespaces: ['*'],
                clusterScope: true,
              },
            ],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      },
    });
    expect(shipped[0]?.metadata.namespace).toBeUndefined(); // cluster-scoped
  });

  it('is matched before the built-in service-accounts schema (precedence 9000)', () => {
    expect(shipped[0]?.spec?.matchingPrecedence).toBeLessThan(9000);
    expect(() => parseValues({ flowSchema: { matchingPrecedence: 9000 } })).toThrow();
  });

  it("follows the install's name and namespace, and is left out when disabled", () => {
    const target = { release: 'acme', namespace: 'integrations-system' };
    const named = installObjects(parseValues({}), target) as unknown as KubeObject[];
    const schema = named.find((object) => object.kind === 'FlowSchema');
    expect(schema?.metadata.name).toBe('acme-operator');
    expect(JSON.stringify(schema?.spec)).toContain(
      '"serviceAccount":{"name":"acme-operator","namespace":"integrations-system"}',
    );
    const off = installObjects(
      parseValues({ flowSchema: { enabled: false } }),
    ) as unknown as KubeObject[];
    expect(off.filter((object) => object.kind === 'FlowSchema')).toEqual([]);
  });
});
