import { describe, expect, it } from 'vitest';
import { SyncError } from '../../../operator/runtime/errors.ts';
import { compileSchema, type RecordSchema } from '../../../operator/runtime/schema.ts';

const schema: RecordSchema = {
  required: ['id', 'email'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    email: { type: 'string', format: 'email' },
    age: { type: 'integer', nullable: true },
    score: { type: 'number' },
    active: { type: 'boolean' },
    tags: { type: 'array' },
    address: { type: 'object' },
    created: { type: 'string', format: 'date-time' },
    birthday: { type: 'string', format: 'date' },
    site: { type: 'string', format: 'uri' },
    plan: { type: 'string', enum: ['free', 'pro'] },
    sku: { type: 'string', pattern: '^[A-Z]{3}-\\d+$' },
  },
};

const valid = { id: '0f8fad5b-d9cb-469f-a165-70867728950e', email: 'a@b.example' };

describe('compileSchema', () => {
  const validator = compileSchema(schema);
  it.each([
    ['a minimal record', {}, undefined],
    [
      'all fields valid',
      {
        age: 3,
        score: 1.5,
        active: true,
        tags: [],
        address: {},
        created: '2025-01-01T10:00:00Z',
        birthday: '2000-02-29',
        site: 'https://x.test/a',
        plan: 'pro',
        sku: 'ABC-12',
      },
      undefined,
    ],
    ['an integer where a number is expected', { score: 2 }, undefined],
    ['a null nullable field', { age: null }, undefined],
    ['a missing required field', { email: undefined }, 'email: is required'],
    ['a null non-nullable field', { score: null }, 'score: must not be null'],
    [
      'a number where an integer is expected',
      { age: 1.5 },
      'age: must be of type integer, got number',
    ],
    [
      'a string where a number is expected',
      { score: '1' },
      'score: must be of type number, got string',
    ],
    [
      'an array where an object is expected',
      { address: [] },
      'address: must be of type object, got array',
    ],
    ['a bad email', { email: 'nope' }, 'email: must be a valid email'],
    ['a bad uuid', { id: '123' }, 'id: must be a valid uuid'],
    ['a bad date-time', { created: '2025-01-01' }, 'created: must be a valid date-time'],
    ['an impossible date', { birthday: '2001-02-29' }, 'birthday: must be a valid date'],
    ['a relative uri', { site: '/a/b' }, 'site: must be a valid uri'],
    ['a value outside the enum', { plan: 'gold' }, 'plan: must be one of free, pro'],
    ['a pattern mismatch', { sku: 'abc-1' }, 'sku: must match ^[A-Z]{3}-\\d+$'],
  ] as const)('%s', (_name, fields, problem) => {
    expect(validator.check({ ...valid, ...fields })).toBe(problem);
  });

  it('accepts anything without a schema', () => {
    expect(compileSchema(undefined).check({ anything: 1 })).toBeUndefined();
  });

  it('refuses an invalid pattern as a Configuration error', () => {
    const compile = () => compileSchema({ properties: { a: { type: 'string', pattern: '(' } } });
    expect(compile).toThrow(SyncError);
    expect(compile).toThrow(/schema.properties.a.pattern/);
  });
});

describe('compileSchema: nested paths', () => {
  const validator = compileSchema({
    required: ['id', 'billing.address.city', 'lines[].sku'],
    properties: {
      id: { type: 'string' },
      'billing.address.city': { type: 'string' },
      'billing.address.zip': { type: 'string', pattern: '^\\d{4}$' },
      'lines[].sku': { type: 'string' },
      'lines[].qty': { type: 'integer' },
      'tags[]': { type: 'string', enum: ['a', 'b'] },
      'meta.v': { type: 'integer' },
    },
  });
  const base = { id: '1', billing: { address: { city: 'Oslo' } }, lines: [] };
  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['a record with every nested field valid', { lines: [{ sku: 'A', qty: 2 }] }, undefined],
    ['an empty array has nothing to require', {}, undefined],
    [
      'a nested required field absent',
      { billing: { address: {} } },
      'billing.address.city: is required',
    ],
    ['its parent absent', { billing: {} }, 'billing.address.city: is required'],
    [
      'a required field absent from one array element',
      { lines: [{ sku: 'A' }, { qty: 1 }] },
      'lines[].sku: is required',
    ],
    [
      'a nested value of the wrong type',
      { billing: { address: { city: 7 } } },
      'billing.address.city: must be of type string, got integer',
    ],
    [
      'a nested pattern mismatch',
      { billing: { address: { city: 'Oslo', zip: 'x' } } },
      'billing.address.zip: must match ^\\d{4}$',
    ],
    [
      'one array element of the wrong type',
      {
        lines: [
          { sku: 'A', qty: 1 },
          { sku: 'B', qty: 1.5 },
        ],
      },
      'lines[].qty: must be of type integer, got number',
    ],
    [
      'an array of scalars checked element by element',
      { tags: ['a', 'c'] },
      'tags[]: must be one of a, b',
    ],
    ['a null parent is judged by its own contract, not as missing', { meta: null }, undefined],
    [
      'a top-level key that contains a dot is matched literally first',
      { 'meta.v': 'x' },
      'meta.v: must be of type integer, got string',
    ],
  ])('%s', (_name, fields, problem) => {
    expect(validator.check({ ...base, ...fields })).toBe(problem);
  });
});
