/**
 * Objects the hostile-specs fuzzer found a fault with, replayed as they were (short of the
 * generated noise) before every run: each must be admitted and conditioned, or refused, as
 * `expect` says. Add one line per finding, with the seed that found it.
 */
import { QUICK_CONNECTOR_IMAGE } from '../../../dev/cluster/images.ts';
import type { Case } from './arbitraries.ts';
import { DeepJson } from './mutations.ts';

const integration = (name: string, spec: Record<string, unknown>): Case['body'] => ({
  apiVersion: 'tributary.dev/v1alpha1',
  kind: 'Integration',
  metadata: { name },
  spec: { connector: { image: QUICK_CONNECTOR_IMAGE }, ...spec },
});

/** A found fault: the object, what the API server must do with it, and what found it. */
export interface Regression {
  name: string;
  foundBy: string;
  expect: 'admitted' | 'rejected';
  item: Case;
}

export const REGRESSIONS: readonly Regression[] = [
  {
    // zod reads "every field in required is in properties" per element; the CEL rule required
    // properties as soon as required was set, so an empty list was refused.
    name: 'an empty schema.required without properties',
    foundBy: 'CHAOS_SEED=462307574 CHAOS_PATH=28',
    expect: 'admitted',
    item: {
      kind: 'Integration',
      mutation: 'valid',
      zodValid: true,
      body: integration('empty-required', { schema: { required: [] } }),
    },
  },
  {
    // Admitted by the API server; the operator's JSON.stringify of the run input overflowed the
    // stack on every reconcile, so no condition was ever written. Now Stalled/InvalidSpec.
    name: 'connector.config nested 5000 levels',
    foundBy: 'CHAOS_SEED=1102627855 (run 2, nested-mixed-5000)',
    expect: 'admitted',
    item: {
      kind: 'Integration',
      mutation: 'nested-mixed-5000 spec.connector.config',
      zodValid: false,
      body: integration('deep-config', {
        connector: { image: QUICK_CONNECTOR_IMAGE, config: { deep: new DeepJson(5000, 'mixed') } },
      }),
    },
  },
  {
    // The API server's quantity() in the request-within-limit CEL rule spent over a minute on
    // a 125-million-digit exponent: the create timed out with a 504. Exponents now have at most
    // two digits, and the rule checks the pattern before quantity().
    name: 'a run resource quantity with a huge exponent',
    foundBy: 'CHAOS_SEED=538115213 (short form, batch 7)',
    expect: 'rejected',
    item: {
      kind: 'Integration',
      mutation: 'valid-looking quantity 3563.22304972E-125786375',
      zodValid: false,
      body: integration('huge-exponent', {
        overrides: {
          run: {
            resources: {
              requests: { cpu: '3563.22304972E-125786375' },
              limits: { cpu: '.0Gi' },
            },
          },
        },
      }),
    },
  },
  {
    // parseQuantity read `Ei` (exbibytes) as an exponent: NaN, so resolving the admitted policy
    // threw a ZodError on every reconcile and the policy never got a condition. Now read as
    // 2^60, and a policy that does not resolve is reported, not retried.
    name: 'a policy with a run limit in exbibytes',
    foundBy: 'CHAOS_SEED=538115213 (short form, after the huge-exponent fix)',
    expect: 'admitted',
    item: {
      kind: 'ReconcilePolicy',
      mutation: 'valid',
      zodValid: true,
      body: {
        apiVersion: 'tributary.dev/v1alpha1',
        kind: 'ReconcilePolicy',
        metadata: { name: 'exbibytes' },
        spec: { run: { resources: { limits: { memory: '16803Ei' } } } },
      },
    },
  },
];
