import { describe, expect, it } from 'vitest';
import { SyncError } from '../../../operator/runtime/errors.ts';
import { SchemaDrift, compileSchema, type RecordSchema } from '../../../operator/runtime/schema.ts';

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

describe('SchemaDrift', () => {
  const contract: RecordSchema = {
    properties: { id: { type: 'string' }, email: { type: 'string' }, phone: { type: 'string' } },
  };
  it.each([
    ['records matching the contract', [{ id: '1', email: 'x', phone: 'y' }], true, undefined],
    ['a new field', [{ id: '1', email: 'x', phone: 'y', vip: true }], true, { added: ['vip'] }],
    [
      'a field never seen',
      [
        { id: '1', email: 'x' },
        { id: '2', email: 'y' },
      ],
      true,
      { removed: ['phone'] },
    ],
    [
      'a field seen in only one record',
      [
        { id: '1', email: 'x' },
        { id: '2', phone: 'p' },
      ],
      true,
      undefined,
    ],
    [
      'both',
      [{ id: '1', email: 'x', b: 1, a: 2 }],
      true,
      { added: ['a', 'b'], removed: ['phone'] },
    ],
    [
      'an incomplete pass reports no removals',
      [{ id: '1', email: 'x', b: 1 }],
      false,
      { added: ['b'] },
    ],
    ['no records read', [], true, undefined],
  ] as const)('%s', (_name, records, complete, changes) => {
    const drift = new SchemaDrift(contract);
    for (const record of records) drift.observe(record);
    expect(drift.report(complete)).toEqual(changes);
  });

  it('reports nothing without contracted properties', () => {
    const drift = new SchemaDrift(undefined);
    drift.observe({ id: '1', anything: 2 });
    expect(drift.report(true)).toBeUndefined();
  });
});
