/**
 * Hostile mutations of a valid object for the hostile-specs scenario: each is a plain description
 * (so fast-check prints and shrinks it) applied to a copy of the object.
 */
import fc from 'fast-check';
import { SYNC_REQUESTED_ANNOTATION } from '../../../operator/api/integration.ts';

/** One mutation: what it puts where. `at` is relative to the object (`spec`, `metadata`, ...). */
export type Mutation =
  | { kind: 'set'; what: string; at: Target; value: unknown }
  | { kind: 'unknown-field'; at: Target; field: string; value: unknown };

/** Where a mutation applies: an existing path picked by index, or a fixed path. */
export type Target = { pick: number } | { path: string[] };

const KIB = 1024;
const MIB = 1024 * KIB;

/** Lengths at and past the schemas' max lengths, up to ~1 MiB. */
const LENGTHS = [
  63,
  64,
  65,
  128,
  129,
  253,
  254,
  256,
  257,
  1024,
  1025,
  2048,
  2049,
  4096,
  4097,
  32_768,
  65_536,
  262_144,
  900 * KIB,
];

/** Pieces of hostile unicode (never NUL). */
const UNICODE = [
  '\u202Eevil\u202C', // right-to-left override
  'e\u0301\u0301\u0301\u0301', // stacked combining marks
  '👩‍👩‍👧‍👦🏳️‍🌈', // ZWJ emoji sequences
  '\u200B\u200C\u200D\uFEFF', // zero-width and BOM
  '\uD800', // a lone surrogate
  'ﬁ\u0130\u0131ß', // case-folding traps
  '١٠s', // Arabic-Indic digits
  '１０ｓ', // full-width
  'שלום עולם', // RTL text
  '\u0007\u001b[31m\r\n\t', // control characters and an ANSI escape
  '${jndi:ldap://x}{{.}}%s%n', // template and format strings
];

const hugeString = fc
  .tuple(fc.constantFrom(...LENGTHS), fc.constantFrom('a', 'é', '😀', 'x\u0301'))
  .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

const unicodeString = fc.oneof(
  fc.constantFrom(...UNICODE),
  fc
    .array(fc.constantFrom(...UNICODE), { minLength: 2, maxLength: 5 })
    .map((parts) => parts.join('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
);

const extremeNumber = fc.constantFrom(
  0,
  -0,
  -1,
  1.5,
  0.1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  2 ** 63,
  1e308,
  5e-324,
  -1e308,
);

const wrongType = fc.constantFrom<unknown>(
  null,
  true,
  false,
  [],
  {},
  '1',
  1,
  [1, [2]],
  { a: {} },
  '',
);

/**
 * JSON nested `depth` levels (objects, arrays, or both alternating), kept as a description: past
 * a few thousand levels JSON.stringify itself overflows the stack, so {@link serialize} writes it.
 */
export class DeepJson {
  readonly depth: number;
  readonly shape: 'object' | 'array' | 'mixed';

  constructor(depth: number, shape: 'object' | 'array' | 'mixed') {
    this.depth = depth;
    this.shape = shape;
  }

  /** The JSON text, written without recursion. */
  text(): string {
    let open = '';
    let close = '';
    for (let i = 0; i < this.depth; i++) {
      const asArray = this.shape === 'array' || (this.shape === 'mixed' && i % 2 === 1);
      open += asArray ? '[' : '{"d":';
      close = (asArray ? ']' : '}') + close;
    }
    return `${open}"leaf"${close}`;
  }
}

/** JSON.stringify, with each {@link DeepJson} written as its text. */
export function serialize(value: unknown): string {
  const deep: DeepJson[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (!(v instanceof DeepJson)) return v;
    deep.push(v);
    return `@@deep-json-${deep.length - 1}@@`;
  });
  return text.replace(
    /"@@deep-json-(\d+)@@"/g,
    (_, i: string) => deep[Number(i)]?.text() ?? 'null',
  );
}

/** A config of ~`bytes` spread over many keys, or one value. */
function bigConfig(bytes: number, keys: number): Record<string, unknown> {
  const each = Math.floor(bytes / keys);
  return Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, 'v'.repeat(each)]));
}

const config = ['spec', 'connector', 'config'];

const deepConfig = fc
  .tuple(
    fc.constantFrom(16, 32, 64, 100, 200, 500, 1000, 5000),
    fc.constantFrom<'object' | 'array' | 'mixed'>('object', 'array', 'mixed'),
  )
  .map(([depth, shape]): Mutation => ({
    kind: 'set',
    what: `nested-${shape}-${depth}`,
    at: { path: config },
    value: { deep: new DeepJson(depth, shape) },
  }));

const bigObject = fc
  .tuple(
    fc.constantFrom(256 * KIB, 900 * KIB, MIB - 16 * KIB, 1.2 * MIB),
    fc.constantFrom(1, 64, 4096),
  )
  .map(([bytes, keys]): Mutation => ({
    kind: 'set',
    what: `big-config-${Math.round(bytes / KIB)}KiB-${keys}keys`,
    at: { path: config },
    value: bigConfig(bytes, keys),
  }));

const hostileConfigKeys = fc
  .constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    '',
    '.',
    '$ref',
    'a.b',
    SYNC_REQUESTED_ANNOTATION,
  )
  .map((field): Mutation => ({
    kind: 'unknown-field',
    at: { path: config },
    field,
    value: { polluted: true },
  }));

const ODD_DURATIONS = [
  '0s',
  '0ms',
  '1.5h',
  '999999999h',
  '-1s',
  '1d',
  'PT1H',
  '10 s',
  '.5s',
  '1e3s',
  '10s10s',
  '9223372036854775807ms',
  '0000000000000000000000010s',
  '1h0.0000001ms',
  '5m',
  '30d',
  '1.0000000001s',
];
const ODD_CRONS = [
  '61 * * * *',
  '* * * * * *',
  '@hourly',
  '0 0 30 2 *',
  '*/0 * * * *',
  '0 0 31 4 *',
  '* * * *',
  'L * * * *',
  '0 0 ? * MON#5',
  '59 23 31 12 5',
  '1-0 * * * *',
  '*/1000000 * * * *',
  '0 0 29 2 1',
  'a b c d e',
  '0 0 1 1 *',
];
const ODD_ZONES = [
  'Mars/Olympus',
  'Etc/GMT+14',
  'Etc/GMT-14',
  'EST5EDT',
  'UTC',
  'America/Argentina/ComodRivadavia',
  'Europe/Kyiv',
  'Europe/Kiev',
  'local',
  'Factory',
  'Antarctica/Troll',
  'A',
  'a/b/c/d/e',
  'Etc/GMT+0',
];

/** Odd values at the schema paths that hold them (`paths` are under spec). */
function at(paths: string[][], values: string[], what: string): fc.Arbitrary<Mutation> {
  return fc
    .tuple(fc.constantFrom(...paths), fc.constantFrom(...values))
    .map(([path, value]) => ({ kind: 'set', what, at: { path: ['spec', ...path] }, value }));
}

/** Annotations the operator reads and echoes in status, and labels, with hostile values. */
const hostileMetadata = fc
  .tuple(
    fc.constantFrom(
      ['metadata', 'annotations', SYNC_REQUESTED_ANNOTATION],
      ['metadata', 'annotations', 'tributary.dev/drift-check-requested-at'],
      ['metadata', 'annotations', 'tributary.dev/resync-requested-at'],
      ['metadata', 'labels', 'fuzz'],
    ),
    fc.oneof(hugeString, unicodeString),
  )
  .map(([path, value]): Mutation => ({
    kind: 'set',
    what: 'metadata-value',
    at: { path: [...path] },
    value,
  }));

/** Every mutation, for an object whose duration/cron/zone paths under spec are given. */
export function mutation(targets: {
  durations: string[][];
  crons: string[][];
  zones: string[][];
}): fc.Arbitrary<Mutation> {
  const pick = fc.nat().map((n) => ({ pick: n }));
  const set = (what: string, value: fc.Arbitrary<unknown>) =>
    fc
      .tuple(pick, value)
      .map(([target, v]): Mutation => ({ kind: 'set', what, at: target, value: v }));
  return fc.oneof(
    set('huge-string', hugeString),
    set('unicode', unicodeString),
    set('extreme-number', extremeNumber),
    set('wrong-type', wrongType),
    fc
      .tuple(
        pick,
        fc.constantFrom('unknownField', 'x-extra', 'status', 'Spec', '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(([target, field, value]): Mutation => ({
        kind: 'unknown-field',
        at: target,
        field,
        value,
      })),
    deepConfig,
    bigObject,
    hostileConfigKeys,
    at(targets.durations, ODD_DURATIONS, 'odd-duration'),
    at(targets.crons, ODD_CRONS, 'odd-cron'),
    at(targets.zones, ODD_ZONES, 'odd-zone'),
    hostileMetadata,
    set(
      'name',
      fc.oneof(hugeString, unicodeString, fc.constantFrom('UPPER', 'a..b', '-x', 'x'.repeat(254))),
    ).map((m): Mutation => ({ ...m, at: { path: ['metadata', 'name'] } })),
  );
}

/** Every path of `root` (objects' keys, arrays' indexes), the root excluded. */
export function allPaths(root: unknown, prefix: string[] = []): string[][] {
  if (root === null || typeof root !== 'object') return [];
  return Object.entries(root).flatMap(([key, value]) => [
    [...prefix, key],
    ...allPaths(value, [...prefix, key]),
  ]);
}

/** Applies `m` to `object` in place; returns a short description such as `unicode spec.x`. */
export function applyMutation(object: Record<string, unknown>, m: Mutation): string {
  const paths = allPaths(object).filter((path) => path[0] !== 'apiVersion' || m.kind === 'set');
  const path = 'path' in m.at ? m.at.path : (paths[m.at.pick % paths.length] ?? ['spec']);
  const parent = path.slice(0, -1).reduce<Record<string, unknown>>((node, key) => {
    const next = node[key];
    if (next !== null && typeof next === 'object') return next as Record<string, unknown>;
    const created: Record<string, unknown> = {};
    node[key] = created;
    return created;
  }, object);
  const last = path[path.length - 1] ?? 'spec';
  if (m.kind === 'set') {
    parent[last] = m.value;
    return `${m.what} ${path.join('.')}`;
  }
  const target = parent[last];
  const holder: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? (target as Record<string, unknown>)
      : parent;
  Object.defineProperty(holder, m.field, {
    value: m.value,
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return `unknown-field ${m.field} at ${path.join('.')}`;
}
