import { describe, expect, it } from 'vitest';
import {
  fitName,
  integrationLabelValue,
  jobName,
} from '../../../../operator/controller/plan/job-name.ts';

/** A DNS-1123 label: what a Job name must be so that its pods' `job-name` label is valid. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Kubernetes label value. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const due = new Date('2026-01-05T10:00:00Z'); // 1767607200 s
const long = (prefix: string, length: number) => prefix + 'x'.repeat(length - prefix.length);

describe('jobName', () => {
  it.each<[string, Parameters<typeof jobName>[0], string]>([
    [
      'a short name stays readable',
      { integration: 'stripe-customers', kind: 'sync', dueTime: due, attempt: 1 },
      'stripe-customers-s-1767607200-1',
    ],
    [
      'drift checks use d',
      { integration: 'stripe-customers', kind: 'drift-check', dueTime: due, attempt: 3 },
      'stripe-customers-d-1767607200-3',
    ],
    [
      'sub-second due times use the whole second',
      {
        integration: 'a',
        kind: 'sync',
        dueTime: new Date('2026-01-05T10:00:00.900Z'),
        attempt: 100,
      },
      'a-s-1767607200-100',
    ],
    [
      'a name that just fits is kept',
      { integration: long('n', 46), kind: 'sync', dueTime: due, attempt: 1 },
      `${long('n', 46)}-s-1767607200-1`,
    ],
  ])('%s', (_name, input, expected) => {
    expect(jobName(input)).toBe(expected);
  });

  const names = [
    long('n', 46),
    long('n', 47),
    long('n', 63),
    long('n', 253),
    'payments.stripe.customers',
    'payments-stripe-customers',
    `${long('a', 60)}.b`,
    `a.${'b'.repeat(60)}`,
    '0',
  ];

  it.each(names)('is a DNS-1123 label of at most 63 characters for %s', (integration) => {
    for (const attempt of [1, 9, 10, 100]) {
      for (const kind of ['sync', 'drift-check'] as const) {
        const name = jobName({ integration, kind, dueTime: due, attempt });
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toMatch(DNS_LABEL);
        expect(name).toMatch(new RegExp(`-[sd]-1767607200-${attempt}$`));
      }
    }
  });

  it('keeps one prefix for every attempt of an Integration', () => {
    const prefixes = [1, 10, 100].map(
      (attempt) =>
        jobName({ integration: long('n', 47), kind: 'sync', dueTime: due, attempt }).split(
          '-s-',
        )[0],
    );
    expect(new Set(prefixes).size).toBe(1);
  });

  it('keeps the readable part of a long name and hashes the rest', () => {
    const name = jobName({
      integration: long('stripe-customers-', 120),
      kind: 'sync',
      dueTime: due,
      attempt: 1,
    });
    expect(name).toMatch(/^stripe-customers-x+-[0-9a-f]{10}-s-1767607200-1$/);
  });

  it('never collides for distinct long names with a common prefix, or for a.b and a-b', () => {
    const integrations = [
      ...Array.from({ length: 200 }, (_, i) => `${long('shared-prefix-', 100)}-${i}`),
      ...Array.from({ length: 200 }, (_, i) => 'y'.repeat(40 + i)),
      'payments.stripe.customers',
      'payments-stripe-customers',
    ];
    const jobs = integrations.map((integration) =>
      jobName({ integration, kind: 'sync', dueTime: due, attempt: 1 }),
    );
    expect(new Set(jobs).size).toBe(integrations.length);
  });

  it('is unique per kind, due time and attempt, and deterministic', () => {
    const base = { integration: long('n', 200), kind: 'sync', dueTime: due, attempt: 1 } as const;
    const variants = [
      base,
      { ...base, kind: 'drift-check' as const },
      { ...base, dueTime: new Date(due.getTime() + 1000) },
      { ...base, attempt: 2 },
    ];
    const names = variants.map(jobName);
    expect(new Set(names).size).toBe(variants.length);
    expect(variants.map(jobName)).toEqual(names);
  });
});

describe('fitName', () => {
  it('falls back to the hash alone when nothing else fits', () => {
    expect(fitName('abcdef', 3)).toMatch(/^[0-9a-f]{10}$/);
  });
});

describe('integrationLabelValue', () => {
  it.each([
    ['stripe-customers', 'stripe-customers'],
    ['payments.stripe.customers', 'payments.stripe.customers'],
    [long('n', 63), long('n', 63)],
  ])('keeps %s as it is', (name, expected) => {
    expect(integrationLabelValue(name)).toBe(expected);
  });

  it.each([long('n', 64), long('n', 253), `${long('a', 51)}.-b${'c'.repeat(100)}`])(
    'shortens %s into a valid, distinct label value',
    (name) => {
      const value = integrationLabelValue(name);
      expect(value.length).toBeLessThanOrEqual(63);
      expect(value).toMatch(LABEL_VALUE);
      expect(value).toMatch(/-[0-9a-f]{10}$/);
      expect(integrationLabelValue(`${name}z`)).not.toBe(value);
    },
  );
});
