// @ts-check
/**
 * The house's import boundaries as one ESLint rule (`tributary/layers`), read from one table.
 *
 *   operator/api  ←  operator/lib  ←  operator/controller | operator/runtime | operator/intake
 *
 * A module may import its own area and the areas listed for it; nothing under operator/ imports
 * dev/, test/, scripts/ or bench/; the harness in dev/ never imports test/; e2e and integration
 * tests share helpers through test/support/, not through each other. Imports are resolved to
 * files first, so `../../controller/x.ts` and `../controller/x.ts` are judged by where they land.
 * operator/api also has no I/O: of packages it may import only the pure ones listed.
 */
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * Areas, most specific first: the first whose prefix matches a file's repository path wins.
 * `may` lists the other areas it may import (its own is always allowed).
 * @type {{ area: string, prefix: string, may: string[] }[]}
 */
export const AREAS = [
  { area: 'operator/api', prefix: 'operator/api/', may: [] },
  { area: 'operator/lib', prefix: 'operator/lib/', may: ['operator/api'] },
  {
    area: 'operator/controller',
    prefix: 'operator/controller/',
    may: ['operator/api', 'operator/lib'],
  },
  { area: 'operator/runtime', prefix: 'operator/runtime/', may: ['operator/api', 'operator/lib'] },
  { area: 'operator/intake', prefix: 'operator/intake/', may: ['operator/api', 'operator/lib'] },
  // kubectl tributary: the user's commands against the cluster.
  { area: 'operator/kubectl', prefix: 'operator/kubectl/', may: ['operator/api', 'operator/lib'] },
  {
    // The commands the CLI runs that compose several components (tributary intake).
    area: 'operator/commands',
    prefix: 'operator/commands/',
    may: [
      'operator/api',
      'operator/lib',
      'operator/controller',
      'operator/runtime',
      'operator/intake',
    ],
  },
  {
    area: 'operator/cli.ts',
    prefix: 'operator/cli.ts',
    may: [
      'operator/api',
      'operator/lib',
      'operator/controller',
      'operator/runtime',
      'operator/intake',
      'operator/commands',
      'operator/kubectl',
    ],
  },
  { area: 'manifests', prefix: 'manifests/', may: ['operator/api'] },
  { area: 'dev', prefix: 'dev/', may: ['operator', 'manifests'] },
  { area: 'scripts', prefix: 'scripts/', may: ['operator', 'manifests', 'dev'] },
  { area: 'bench', prefix: 'bench/', may: ['operator', 'dev'] },
  {
    area: 'test/e2e',
    prefix: 'test/e2e/',
    may: ['operator', 'manifests', 'dev', 'test/support', 'test/fixtures'],
  },
  {
    area: 'test/integration',
    prefix: 'test/integration/',
    may: ['operator', 'manifests', 'dev', 'test/support', 'test/fixtures', 'test/tools'],
  },
  { area: 'test/tools', prefix: 'test/tools/', may: ['operator', 'manifests', 'dev'] },
  {
    area: 'test/support',
    prefix: 'test/support/',
    may: ['operator', 'manifests', 'dev', 'test/fixtures'],
  },
  {
    area: 'test/fixtures',
    prefix: 'test/fixtures/',
    may: ['operator', 'manifests', 'dev', 'test/support'],
  },
  {
    area: 'test',
    prefix: 'test/',
    may: ['operator', 'manifests', 'dev', 'eslint', 'scripts', 'deploy', 'charts'],
  },
];

/** Packages operator/api may import (pure: schemas, cron and YAML parsing); type imports are free. */
export const API_PACKAGES = ['zod', 'cron-parser', 'yaml'];

/**
 * The area of a repository path (`operator/runtime/sync.ts` → `operator/runtime`), or undefined.
 * @param {string} path
 */
export function areaOf(path) {
  return AREAS.find((a) => path === a.prefix || path.startsWith(a.prefix))?.area;
}

/**
 * Why `from` may not import `to` (repository paths), or undefined when it may.
 * @param {string} from
 * @param {string} to
 */
export function forbidden(from, to) {
  const source = AREAS.find((a) => a.area === areaOf(from));
  if (source === undefined) return undefined;
  const target = areaOf(to);
  if (target === undefined || target === source.area) return undefined;
  // `may: ['operator']` allows every area under operator/; `test` allows its sub-areas.
  const allowed = [source.area, ...source.may].some(
    (may) =>
      target === may ||
      target.startsWith(`${may}/`) ||
      (may === 'test' && target.startsWith('test')),
  );
  if (allowed) return undefined;
  const may = source.may.length > 0 ? source.may.join(', ') : 'nothing outside itself';
  return `${source.area} may not import ${target} (${source.area} may import ${may}; see docs/architecture.md)`;
}

/** @type {import('eslint').Rule.RuleModule} */
const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'Keeps imports inside the layers of docs/architecture.md.' },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const file = relative(root, context.filename).split(sep).join('/');
    if (areaOf(file) === undefined) return {};
    /** @param {any} node @param {unknown} value @param {boolean} typeOnly */
    const check = (node, value, typeOnly) => {
      if (typeof value !== 'string') return;
      if (value.startsWith('.')) {
        const target = relative(root, resolve(dirname(context.filename), value))
          .split(sep)
          .join('/');
        const why = forbidden(file, target);
        if (why !== undefined) context.report({ node, message: why });
        return;
      }
      if (areaOf(file) !== 'operator/api' || typeOnly) return;
      const name = value.startsWith('@')
        ? value.split('/').slice(0, 2).join('/')
        : value.split('/')[0];
      if (!API_PACKAGES.includes(name ?? '')) {
        context.report({
          node,
          message: `operator/api has no I/O: it may import only ${API_PACKAGES.join(', ')} (and types); not ${value}`,
        });
      }
    };
    /** TS-ESLint nodes carry `importKind`/`exportKind`; ESLint's own types do not. @param {any} node */
    const typeOnly = (node) => node.importKind === 'type' || node.exportKind === 'type';
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value, typeOnly(node)),
      ExportAllDeclaration: (node) => check(node.source, node.source.value, typeOnly(node)),
      ExportNamedDeclaration: (node) =>
        node.source && check(node.source, node.source.value, typeOnly(node)),
      ImportExpression: (node) =>
        node.source.type === 'Literal' && check(node.source, node.source.value, false),
    };
  },
};

/** The local plugin: `tributary/layers`. */
export const plugin = { rules: { layers } };
