import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { operatorObjects, renderChartFiles, renderManifests } from '../../../manifests/src/app.ts';
import { TENANT_EDIT_ROLE, TENANT_VIEW_ROLE } from '../../../manifests/src/tenant-roles.ts';
import { parseValues } from '../../../manifests/src/values.ts';
import { ROOT } from '../../fixtures/manifests.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

interface Role {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  rules?: Rule[];
}

/** The tenants' roles: bound to no one by the install, aggregated into admin, edit and view. */
const TENANT_ROLES = [TENANT_EDIT_ROLE, TENANT_VIEW_ROLE];

/** The shipped install's roles, as committed (the chart renders the same: test/packaging). */
const allRoles = parseAllDocuments(readFileSync(join(ROOT, 'manifests', 'install.yaml'), 'utf8'))
  .map((doc) => doc.toJS() as Role)
  .filter((o) => ['ClusterRole', 'Role'].includes(o.kind));
/** The roles the operator and the intake are bound to. */
const objects = allRoles.filter((o) => !TENANT_ROLES.includes(o.metadata.name));
const rules = objects.flatMap((object) => object.rules ?? []);
const clusterRules = objects.filter((o) => o.kind === 'ClusterRole').flatMap((o) => o.rules ?? []);

describe('manifests/', () => {
  it.each([...renderManifests()])(
    '%s is committed as generated (run `npm run generate`)',
    (file, text) => {
      expect(readFileSync(join(ROOT, 'manifests', file), 'utf8')).toBe(text);
    },
  );
});

describe('charts/tributary/', () => {
  it.each([...renderChartFiles()])(
    '%s is committed as generated (run `npm run generate`)',
    (file, text) => {
      expect(readFileSync(join(ROOT, 'charts', 'tributary', file), 'utf8')).toBe(text);
    },
  );
});

describe('the shipped RBAC', () => {
  it("is in the install: the operator's and the intake's ClusterRoles, the leader-election Role", () => {
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      'ClusterRole tributary-intake',
      'ClusterRole tributary-operator',
      'Role tributary-operator-leader-election',
    ]);
  });

  it('has no wildcard group, resource or verb', () => {
    for (const rule of rules) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
    }
  });

  it('never lists or watches Secrets cluster-wide, and only gets them', () => {
    const secretRules = clusterRules.filter((rule) => rule.resources.includes('secrets'));
    // One rule each: the operator's (metadata-only GET) and the intake's (a named Secret).
    expect(secretRules.flatMap((rule) => rule.verbs)).toEqual(['get', 'get']);
  });

  it('grants no escalate, bind or impersonate', () => {
    const verbs = rules.flatMap((rule) => rule.verbs);
    for (const verb of ['escalate', 'bind', 'impersonate']) expect(verbs).not.toContain(verb);
  });

  it('can write only the status of its own kinds, and only run Jobs', () => {
    const writable = rules
      .filter((rule) =>
        rule.verbs.some((verb) => ['create', 'update', 'patch', 'delete'].includes(verb)),
      )
      .flatMap((rule) => rule.resources)
      .sort();
    expect(writable).toEqual([
      'events',
      'integrations/finalizers',
      'integrations/status',
      'jobs',
      'leases',
      'leases',
      'reconcilepolicies/status',
    ]);
  });
});

describe('the RBAC of an operator watching some namespaces', () => {
  const scoped = operatorObjects(parseValues({ watchNamespaces: ['team-a', 'team-b'] })) as {
    kind: string;
    metadata: { name: string; namespace?: string };
    rules?: Rule[];
  }[];
  const roles = scoped.filter(
    (o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && o.metadata.name.endsWith('-operator'),
  );

  it('grants nothing cluster-wide (the only ClusterRoles are the unbound tenant roles)', () => {
    const clusterWide = scoped.filter((o) => o.kind.startsWith('Cluster'));
    expect(clusterWide.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      'ClusterRole tributary-edit',
      'ClusterRole tributary-view',
    ]);
  });

  it("has the cluster install's rules as a Role in each watched namespace", () => {
    const clusterRules = objects.find((o) => o.metadata.name === 'tributary-operator')?.rules;
    for (const namespace of ['team-a', 'team-b']) {
      const role = roles.find((o) => o.metadata.namespace === namespace);
      expect(role?.rules).toEqual(clusterRules);
    }
    expect(roles.map((o) => o.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
  });

  it('may list pods in its own namespace, which its watched namespaces leave out (the intake replicas)', () => {
    const own = scoped.filter(
      (o) => o.kind === 'Role' && o.metadata.namespace === 'tributary-system',
    );
    expect(own.map((o) => [o.metadata.name, o.rules])).toEqual([
      ['tributary-operator-leader-election', expect.any(Array)],
      [
        'tributary-operator-intake-discovery',
        [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      ],
    ]);
  });
});

describe('the tenant roles', () => {
  const role = (name: string) => allRoles.find((o) => o.metadata.name === name);
  const aggregation = (name: string) =>
    Object.entries(role(name)?.metadata.labels ?? {})
      .filter(([key]) => key.startsWith('rbac.authorization.k8s.io/aggregate-to-'))
      .map(([key, value]) => `${key.split('/')[1] ?? ''}=${value}`)
      .sort();

  it('aggregate tributary-edit into admin and edit, tributary-view into view', () => {
    expect(aggregation(TENANT_EDIT_ROLE)).toEqual([
      'aggregate-to-admin=true',
      'aggregate-to-edit=true',
    ]);
    expect(aggregation(TENANT_VIEW_ROLE)).toEqual(['aggregate-to-view=true']);
  });

  it('let editors write the Tributary kinds but not their status, viewers only read', () => {
    const writes = (name: string) =>
      (role(name)?.rules ?? [])
        .filter((rule) => rule.verbs.some((verb) => ['create', 'update', 'patch'].includes(verb)))
        .flatMap((rule) => rule.resources)
        .sort();
    expect(writes(TENANT_EDIT_ROLE)).toEqual(['integrations', 'reconcilepolicies']);
    expect(writes(TENANT_VIEW_ROLE)).toEqual([]);
  });

  it('are bound to no one by the install', () => {
    const bindings = parseAllDocuments(
      readFileSync(join(ROOT, 'manifests', 'install.yaml'), 'utf8'),
    )
      .map((doc) => doc.toJS() as { kind: string; roleRef?: { name: string } })
      .filter((o) => o.kind.endsWith('Binding'));
    for (const binding of bindings) expect(TENANT_ROLES).not.toContain(binding.roleRef?.name);
  });
});
