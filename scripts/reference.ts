/**
 * Renders `docs/reference.md`, the API reference of `tributary.dev/v1alpha1`, from what the API
 * is made of: the generated CRDs (types, enums, limits, descriptions, CEL rules, printer
 * columns, names), the operator's built-in policy defaults as `resolvePolicy` applies them, and
 * the doc comments of the condition vocabulary and request annotations. Pure apart from reading
 * those source files; `scripts/generate.ts` writes the result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { API_VERSION } from '../operator/api/common.ts';
import { ConditionType, Reason } from '../operator/api/conditions.ts';
import { customResourceDefinitions } from '../operator/api/crd.ts';
import { BUILT_IN_DEFAULTS, resolvePolicy } from '../operator/api/defaults.ts';
import { CRON_PATTERN, DURATION_PATTERN, PERCENT_PATTERN } from '../operator/api/formats.ts';
import * as integrationModule from '../operator/api/integration.ts';

const API_DIR = join(import.meta.dirname, '..', 'operator', 'api');

/** One node of an OpenAPI v3 structural schema, as read from a generated CRD. */
type SchemaNode = { readonly [key: string]: unknown };

/** The parts of a generated CustomResourceDefinition the reference reads. */
interface CustomResourceDefinition {
  spec: {
    group: string;
    scope: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    versions: {
      name: string;
      subresources?: { status?: object };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description: string;
  priority?: number;
}

/** A field of an object: its full path, schema and whether the object requires it. */
interface Field {
  path: string;
  node: SchemaNode;
  required: boolean;
}

/** What rendering one kind needs besides the section at hand. */
interface KindContext {
  kind: string;
  /** Every schema node of the kind by path, to look up arrays and mirrored fields. */
  byPath: ReadonlyMap<string, SchemaNode>;
  defaults: ReadonlyMap<string, OperatorDefault>;
}

/** An object of the schema with its own fields: one heading and one table in the reference. */
interface Section {
  path: string;
  node: SchemaNode;
  fields: Field[];
}

/**
 * Where the layers of `resolvePolicy(policy, overrides)` live in each kind: the built-in
 * defaults fill what neither sets, and the result is mirrored in `status.effectivePolicy`.
 */
const POLICY_LAYERS: Readonly<Record<string, string>> = {
  ReconcilePolicy: 'spec',
  Integration: 'spec.overrides',
};
const EFFECTIVE_POLICY = 'status.effectivePolicy';

// ---------------------------------------------------------------------------------------------
// Markdown helpers

/** What an empty table cell shows. */
const NONE = '—';

/** A code span that survives backticks and table pipes in its text. */
function code(text: string): string {
  const longestRun = Math.max(0, ...[...text.matchAll(/`+/g)].map(([run]) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replaceAll('|', '\\|')}${pad}${fence}`;
}

/** Schema prose as Markdown text: characters Markdown would interpret are escaped. */
function prose(text: string): string {
  return text.replace(/[\\*<|]/g, (char) => `\\${char}`);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Reading schema nodes

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(node: SchemaNode, key: string): string | undefined {
  const value = node[key];
  return typeof value === 'string' ? value : undefined;
}

function numberAt(node: SchemaNode, key: string): number | undefined {
  const value = node[key];
  return typeof value === 'number' ? value : undefined;
}

function strings(node: SchemaNode, key: string): string[] {
  const value = node[key];
  return Array.isArray(value) ? value.map(String) : [];
}

function properties(node: SchemaNode): [string, SchemaNode][] {
  const value = node.properties;
  if (!isNode(value)) return [];
  return Object.entries(value).filter((entry): entry is [string, SchemaNode] => isNode(entry[1]));
}

/** The element schema of an array node. */
function items(node: SchemaNode): SchemaNode | undefined {
  return isNode(node.items) ? node.items : undefined;
}

/** The value schema of a map node. */
function mapValues(node: SchemaNode): SchemaNode | undefined {
  return isNode(node.additionalProperties) ? node.additionalProperties : undefined;
}

function celRules(node: SchemaNode): { message: string; fieldPath?: string }[] {
  const value = node['x-kubernetes-validations'];
  return Array.isArray(value) ? value.filter(isNode).map(celRule) : [];
}

function celRule(node: SchemaNode): { message: string; fieldPath?: string } {
  const fieldPath = text(node, 'fieldPath');
  return {
    message: text(node, 'message') ?? '',
    ...(fieldPath === undefined ? {} : { fieldPath }),
  };
}

/** The path segment of the element of an array or the value of a map. */
const ITEM = '[]';
const MAP_VALUE = '.<key>';

/** Where a nested object with fields of its own sits under `node`, if anywhere. */
function nestedObject(node: SchemaNode, path: string): [string, SchemaNode] | undefined {
  if (properties(node).length > 0) return [path, node];
  const item = items(node);
  if (item !== undefined && properties(item).length > 0) return [path + ITEM, item];
  const value = mapValues(node);
  if (value !== undefined && properties(value).length > 0) return [path + MAP_VALUE, value];
  return undefined;
}

/** Every object with fields under `node`, depth first, in declaration order. */
function sections(node: SchemaNode, path: string): Section[] {
  const required = new Set(strings(node, 'required'));
  const fields = properties(node).map(([name, child]) => ({
    path: `${path}.${name}`,
    node: child,
    required: required.has(name),
  }));
  const nested = fields.flatMap((field) => {
    const object = nestedObject(field.node, field.path);
    return object === undefined ? [] : sections(object[1], object[0]);
  });
  return [{ path, node, fields }, ...nested];
}

// ---------------------------------------------------------------------------------------------
// Types, limits and defaults of one field

/** The named string formats of the API, recognised by their pattern or format. */
function stringFormat(node: SchemaNode): string | undefined {
  if (text(node, 'format') === 'date-time') return 'timestamp (RFC 3339)';
  switch (text(node, 'pattern')) {
    case DURATION_PATTERN:
      return 'duration';
    case PERCENT_PATTERN:
      return 'percentage';
    case CRON_PATTERN:
      return 'cron expression';
    default:
      return undefined;
  }
}

function typeOf(node: SchemaNode): string {
  const values = strings(node, 'enum');
  if (values.length > 0) return `enum: ${values.map(code).join(', ')}`;
  const item = items(node);
  const value = mapValues(node);
  switch (text(node, 'type')) {
    case 'string':
      return stringFormat(node) ?? 'string';
    case 'array': {
      const keys = strings(node, 'x-kubernetes-list-map-keys');
      const of = item === undefined ? 'any' : typeOf(item);
      return keys.length > 0 ? `list of ${of}, keyed by ${keys.join(', ')}` : `array of ${of}`;
    }
    case 'object':
      if (value !== undefined) return `map of string to ${typeOf(value)}`;
      return node['x-kubernetes-preserve-unknown-fields'] === true
        ? 'object (free-form)'
        : 'object';
    case undefined:
      return 'any (free-form)';
    default:
      return String(node.type);
  }
}

/** Limits of a scalar, as short phrases. The pattern of a named format is left out. */
function scalarLimits(node: SchemaNode): string[] {
  const limits: string[] = [];
  const minimum = numberAt(node, 'minimum');
  const maximum = numberAt(node, 'maximum');
  if (minimum !== undefined) {
    limits.push(node.exclusiveMinimum === true ? `> ${minimum}` : `min ${minimum}`);
  }
  if (maximum !== undefined) {
    limits.push(node.exclusiveMaximum === true ? `< ${maximum}` : `max ${maximum}`);
  }
  if (stringFormat(node) === undefined) {
    const minLength = numberAt(node, 'minLength');
    const maxLength = numberAt(node, 'maxLength');
    const pattern = text(node, 'pattern');
    if (minLength !== undefined)
      limits.push(minLength === 1 ? 'non-empty' : `min length ${minLength}`);
    if (maxLength !== undefined) limits.push(`max length ${maxLength}`);
    if (pattern !== undefined) limits.push(`pattern ${code(pattern)}`);
  }
  return limits;
}

/** Everything admission checks on one field, except the rules of an object (see its section). */
function limitsOf(node: SchemaNode): string[] {
  const limits = scalarLimits(node);
  const minItems = numberAt(node, 'minItems');
  const maxItems = numberAt(node, 'maxItems');
  const maxProperties = numberAt(node, 'maxProperties');
  if (minItems !== undefined) limits.push(`min ${minItems} items`);
  if (maxItems !== undefined) limits.push(`max ${maxItems} items`);
  if (maxProperties !== undefined) limits.push(`max ${maxProperties} entries`);
  const keys = strings(node, 'x-kubernetes-list-map-keys');
  if (keys.length > 0) limits.push(`unique ${keys.join(', ')}`);
  const element = items(node) ?? mapValues(node);
  if (element !== undefined && properties(element).length === 0) {
    const each = limitsOf(element);
    if (each.length > 0) limits.push(`each: ${each.join(', ')}`);
  }
  if (properties(node).length === 0) limits.push(...celRules(node).map((rule) => rule.message));
  return limits;
}

/** A value as the reference prints it. */
function literal(value: unknown): string {
  return code(typeof value === 'string' ? value : JSON.stringify(value));
}

/** Leaf paths of a plain object (`sync.interval` → value). */
function leaves(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!isNode(value)) return out.set(prefix, value);
  for (const [key, child] of Object.entries(value)) {
    for (const [path, leaf] of leaves(child, prefix === '' ? key : `${prefix}.${key}`)) {
      out.set(path, leaf);
    }
  }
  return out;
}

/** An operator-applied default of a policy field: its value, and whether it is computed. */
interface OperatorDefault {
  value: unknown;
  derived: boolean;
}

/**
 * The operator's policy defaults by field path relative to a policy spec (`sync.interval`):
 * what `resolvePolicy` yields with no ReconcilePolicy and no overrides. Fields it fills in
 * that are not in BUILT_IN_DEFAULTS (`freshness.maxAge`) are computed from other fields.
 */
export function operatorDefaults(): Map<string, OperatorDefault> {
  const builtIn = leaves(BUILT_IN_DEFAULTS);
  const resolved = leaves(resolvePolicy(undefined, undefined));
  return new Map(
    [...resolved].map(([path, value]) => [path, { value, derived: !builtIn.has(path) }]),
  );
}

function defaultOf(context: KindContext, path: string, node: SchemaNode): string {
  const shown: string[] = [];
  if (node.default !== undefined) shown.push(`${literal(node.default)} (CRD)`);
  const layer = POLICY_LAYERS[context.kind];
  const policyDefault =
    layer !== undefined && path.startsWith(`${layer}.`)
      ? context.defaults.get(path.slice(layer.length + 1))
      : undefined;
  if (policyDefault !== undefined) {
    const value = literal(policyDefault.value);
    const how = policyDefault.derived
      ? `computed (operator, see description); ${value} with the built-in defaults`
      : `${value} (operator)`;
    shown.push(layer === 'spec' ? how : `the ReconcilePolicy's, else ${how}`);
  }
  return shown.length > 0 ? shown.join('; ') : NONE;
}

// ---------------------------------------------------------------------------------------------
// Sections

/** The description of a node, or of the field it mirrors when it has none of its own. */
function descriptionOf(
  node: SchemaNode,
  path: string,
  byPath: ReadonlyMap<string, SchemaNode>,
): string | undefined {
  const own = text(node, 'description');
  if (own !== undefined) return own;
  const mirrored = mirrorOf(path);
  return mirrored === undefined ? undefined : text(byPath.get(mirrored) ?? {}, 'description');
}

/** `status.effectivePolicy.sync` → `spec.overrides.sync`: the field it resolves. */
function mirrorOf(path: string): string | undefined {
  return path.startsWith(`${EFFECTIVE_POLICY}.`)
    ? `spec.overrides${path.slice(EFFECTIVE_POLICY.length)}`
    : undefined;
}

function fieldRow(context: KindContext, field: Field): string[] {
  const { path, node, required } = field;
  const description = descriptionOf(node, path, context.byPath) ?? items(node)?.description;
  return [
    code(path),
    typeOf(node),
    required ? 'yes' : 'no',
    defaultOf(context, path, node),
    limitsOf(node).join('; ') || NONE,
    typeof description === 'string' ? prose(description) : NONE,
  ];
}

const FIELD_COLUMNS = ['Field', 'Type', 'Required', 'Default', 'Validation', 'Description'];

/** The table of an object's fields; without a Default column when no field has a default. */
function fieldTable(rows: readonly string[][]): string {
  const defaultColumn = FIELD_COLUMNS.indexOf('Default');
  if (rows.some((row) => row[defaultColumn] !== NONE)) return table(FIELD_COLUMNS, rows);
  const without = <T>(cells: readonly T[]) => cells.filter((_, index) => index !== defaultColumn);
  return table(without(FIELD_COLUMNS), rows.map(without));
}

function renderSection(context: KindContext, section: Section): string {
  const { byPath } = context;
  const parts = [`#### ${code(section.path)}`];
  const arrayPath = section.path.endsWith(ITEM) ? section.path.slice(0, -ITEM.length) : undefined;
  const description =
    descriptionOf(section.node, section.path, byPath) ??
    (arrayPath === undefined ? undefined : text(byPath.get(arrayPath) ?? {}, 'description'));
  if (description !== undefined) parts.push(prose(description));
  const mirrored = mirrorOf(section.path);
  if (mirrored !== undefined) {
    const policyPath = `spec${section.path.slice(EFFECTIVE_POLICY.length)}`;
    parts.push(
      `Resolved values of ${code(mirrored)}, else the ReconcilePolicy's ${code(policyPath)}, ` +
        'else the built-in default; see those fields for meaning and defaults.',
    );
  }
  const rules = celRules(section.node);
  if (rules.length > 0) {
    const lines = rules.map(({ message, fieldPath }) => {
      const about = fieldPath === undefined ? '' : ` (${code(section.path + fieldPath)})`;
      return `- ${prose(message)}${about}`;
    });
    parts.push(['Rules checked at admission:', '', ...lines].join('\n'));
  }
  parts.push(fieldTable(section.fields.map((field) => fieldRow(context, field))));
  return parts.join('\n\n');
}

/** Every node under `root` by path, for looking up arrays and mirrored fields. */
function nodesByPath(root: SchemaNode, path: string, into = new Map<string, SchemaNode>()) {
  into.set(path, root);
  for (const [name, child] of properties(root)) nodesByPath(child, `${path}.${name}`, into);
  const element = items(root) ?? mapValues(root);
  if (element !== undefined) {
    nodesByPath(element, path + (items(root) === undefined ? MAP_VALUE : ITEM), into);
  }
  return into;
}

// ---------------------------------------------------------------------------------------------
// Kinds

function renderNames(crd: CustomResourceDefinition): string {
  const { group, names, scope, versions } = crd.spec;
  const version = versions[0];
  const status = version?.subresources?.status === undefined ? '' : ', with a status subresource';
  return [
    `- API version: ${code(`${group}/${version?.name ?? ''}`)}, kind ${code(names.kind)} ` +
      `(list: ${code(names.listKind)})`,
    `- Resource: ${code(names.plural)} (singular ${code(names.singular)}), ` +
      `${scope.toLowerCase()}${status}`,
    `- Short names: ${names.shortNames.map(code).join(', ')}`,
    `- Categories: ${names.categories.map(code).join(', ')} ` +
      `(${code(`kubectl get ${names.categories[0] ?? ''}`)} lists every kind in it)`,
  ].join('\n');
}

function renderPrinterColumns(crd: CustomResourceDefinition): string {
  const columns = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
  const rows = columns.map((column) => [
    column.name,
    code(column.jsonPath),
    column.type,
    (column.priority ?? 0) > 0 ? `with ${code('-o wide')}` : 'always',
    prose(column.description),
  ]);
  return [
    `${code(`kubectl get ${crd.spec.names.plural}`)} prints:`,
    table(['Column', 'JSONPath', 'Type', 'Shown', 'Description'], rows),
  ].join('\n\n');
}

function renderKind(crd: CustomResourceDefinition, defaults: KindContext['defaults']): string {
  const { kind } = crd.spec.names;
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema ?? {};
  const parts = [`## ${kind}`, prose(text(root, 'description') ?? ''), renderNames(crd)];
  parts.push('### Printer columns', renderPrinterColumns(crd));
  const tops = (['spec', 'status'] as const).map((name) => {
    const node = properties(root).find(([property]) => property === name)?.[1] ?? {};
    return { name, node };
  });
  const byPath = new Map<string, SchemaNode>();
  for (const { name, node } of tops) nodesByPath(node, name, byPath);
  const context = { kind, byPath, defaults };
  for (const { name, node } of tops) {
    const title = name === 'spec' ? 'Spec' : 'Status';
    const required = strings(root, 'required').includes(name) ? ' (required)' : '';
    parts.push(`### ${title}${required}`);
    for (const section of sections(node, name)) parts.push(renderSection(context, section));
  }
  return parts.join('\n\n');
}

// ---------------------------------------------------------------------------------------------
// Conditions and annotations, from the doc comments of their constants

/**
 * The doc comments of an exported constant of `operator/api/<file>` and of the properties of
 * its object literal, read with the TypeScript parser (comments do not exist at run time).
 */
function docComments(file: string, name: string): { own: string; members: Map<string, string> } {
  const path = join(API_DIR, file);
  const source = ts.createSourceFile(
    path,
    readFileSync(path, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const declaration = source.statements
    .filter(ts.isVariableStatement)
    .flatMap((statement) => [...statement.declarationList.declarations])
    .find((candidate) => candidate.name.getText(source) === name);
  if (declaration === undefined) throw new Error(`${file} declares no ${name}`);
  let value = declaration.initializer;
  while (value !== undefined && (ts.isAsExpression(value) || ts.isSatisfiesExpression(value))) {
    value = value.expression;
  }
  const members = new Map<string, string>();
  if (value !== undefined && ts.isObjectLiteralExpression(value)) {
    for (const property of value.properties) {
      if (property.name !== undefined) members.set(property.name.getText(source), docOf(property));
    }
  }
  return { own: docOf(declaration.parent.parent), members };
}

function docOf(node: ts.Node): string {
  return ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Rows of a constant's values with their doc comments; every value must have one. */
function documentedValues(
  constants: Readonly<Record<string, string>>,
  members: ReadonlyMap<string, string>,
  what: string,
): string[][] {
  return Object.entries(constants).map(([key, value]) => {
    const doc = members.get(key);
    if (doc === undefined || doc === '') throw new Error(`${what} ${key} has no doc comment`);
    return [code(value), prose(doc)];
  });
}

function renderConditions(): string {
  const types = docComments('conditions.ts', 'ConditionType');
  const reasons = docComments('conditions.ts', 'Reason');
  return [
    '## Conditions',
    `${prose(types.own)} Conditions are reported in ${code('status.conditions')} in ` +
      'metav1.Condition form, at most one per type. A normal-true condition is good when ' +
      'True; an abnormal-true condition is good when False or absent.',
    table(['Type', 'Meaning'], documentedValues(ConditionType, types.members, 'ConditionType')),
    '### Reasons',
    prose(reasons.own),
    table(['Reason', 'Meaning'], documentedValues(Reason, reasons.members, 'Reason')),
  ].join('\n\n');
}

/** The `*_ANNOTATION` constants of integration.ts by name, sorted (module key order varies). */
function annotations(): [string, string][] {
  const exported: Readonly<Record<string, unknown>> = integrationModule;
  return Object.entries(exported)
    .filter(
      (entry): entry is [string, string] =>
        entry[0].endsWith('_ANNOTATION') && typeof entry[1] === 'string',
    )
    .sort(([a], [b]) => a.localeCompare(b, 'en'));
}

function renderAnnotations(): string {
  const rows = annotations().map(([name, value]) => {
    const doc = docComments('integration.ts', name).own;
    if (doc === '') throw new Error(`${name} has no doc comment`);
    return [code(value), prose(doc)];
  });
  return [
    '## Annotations',
    'Annotations on an Integration that the operator acts on:',
    table(['Annotation', 'Meaning'], rows),
  ].join('\n\n');
}

// ---------------------------------------------------------------------------------------------

const HEADER = 'Generated by `npm run generate` from operator/api. Do not edit.';

/** How to read the tables; names the conventions the generated sections rely on. */
const LEGEND = [
  '**Reading the tables.** Each object has a section with one row per field. A path ending ' +
    `in ${code('[]')} is an element of a list; ${code('<key>')} stands for any key of a map. ` +
    '"Required: yes" means required whenever the enclosing object is set.',
  '**Defaults.** "(CRD)" defaults are written into the object by the API server. "(operator)" ' +
    'defaults are not written into the object: the operator applies them when it resolves the ' +
    'policy in force, field by field: built-in default < ReconcilePolicy < ' +
    `${code('spec.overrides')} of the Integration. The result is shown in ` +
    `${code('status.effectivePolicy')}. Other defaults are stated in the descriptions.`,
  '**Formats.** A duration is a Go-style string of number-unit pairs (units ms, s, m, h), e.g. ' +
    `${code('90s')}, ${code('15m')} or ${code('1h30m')}. A percentage is a whole number from ` +
    `${code('0%')} to ${code('100%')}. A cron expression has five fields (minute hour ` +
    'day-of-month month day-of-week); admission checks its shape and the operator its values, ' +
    'as it does for time zones. Timestamps are RFC 3339 in UTC.',
];

/** The Markdown API reference, byte for byte what is committed as `docs/reference.md`. */
export function renderReference(): string {
  const crds = [...customResourceDefinitions().values()].map(
    (crd) => crd as unknown as CustomResourceDefinition,
  );
  const defaults = operatorDefaults();
  const kinds = crds.map((crd) => crd.spec.names.kind);
  const contents = [...kinds, 'Conditions', 'Annotations']
    .map((title) => `[${title}](#${title.toLowerCase()})`)
    .join(' · ');
  const parts = [
    `# API reference: ${code(API_VERSION)}`,
    HEADER,
    contents,
    ...LEGEND,
    ...crds.map((crd) => renderKind(crd, defaults)),
    renderConditions(),
    renderAnnotations(),
  ];
  return `${parts.join('\n\n')}\n`;
}
