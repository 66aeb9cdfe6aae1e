/**
 * Validation of objects read from files or the API, with errors that name the field path
 * (`spec.source.credentialsRef: ...`) the way the API server does.
 */
import type { z } from 'zod';
import { Integration } from './integration.ts';
import { ReconcilePolicy } from './policy.ts';

/** The outcome of validating an object: the typed value, or one message per problem. */
export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Formats a zod issue path as a dotted field path with list indexes: `spec.args[2]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/** Validates `input` against `schema`, with messages of the form `<field path>: <problem>`. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Validation<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: result.error.issues.flatMap(describeIssue) };
}

/** One message per problem; an unknown field is named itself, as the API server does. */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${fieldPath([...issue.path, key])}: unknown field`);
  }
  return [`${fieldPath(issue.path) || '(root)'}: ${issue.message}`];
}

/** Validates an Integration object. */
export const validateIntegration = (input: unknown) => validate(Integration, input);

/** Validates a ReconcilePolicy object. */
export const validateReconcilePolicy = (input: unknown) => validate(ReconcilePolicy, input);
