/**
 * Validation of objects read from files, the API or a run's environment, with errors that name
 * the field path (`spec.source.credentialsRef: ...`) the way the API server does: the one
 * formatter of zod issues, for API objects, the run input and the run result alike.
 */
import { z } from 'zod';
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

/** One message per problem, `<field path>: <problem>`; an unknown field is named itself. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${fieldPath([...issue.path, key])}: unknown field`)
      : [`${fieldPath(issue.path) || '(root)'}: ${issue.message}`],
  );
}

/** Validates `input` against `schema`, with messages of the form `<field path>: <problem>`. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Validation<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: describeIssues(result.error.issues) };
}

/** Why a JSON document (the run input, a run result) could not be read. */
export type DocumentProblem =
  { code: 'Missing' } | { code: 'NotJSON'; detail: string } | { code: 'Invalid'; detail: string };

/** Problems named in an `Invalid` detail: enough to fix the first, short enough for a status. */
const DETAILED_PROBLEMS = 3;

/**
 * Parses `text` as JSON valid against `schema`, or says precisely why it cannot: missing
 * (undefined or blank), not JSON (the parser's message), or invalid (the first problems).
 */
export function parseDocument<S extends z.ZodType>(
  schema: S,
  text: string | undefined,
): { ok: true; value: z.output<S> } | { ok: false; problem: DocumentProblem } {
  if (text === undefined || text.trim() === '') return { ok: false, problem: { code: 'Missing' } };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: { code: 'NotJSON', detail: (error as Error).message } };
  }
  const parsed = validate(schema, json);
  if (parsed.ok) return parsed;
  const detail = parsed.errors.slice(0, DETAILED_PROBLEMS).join('; ');
  return { ok: false, problem: { code: 'Invalid', detail } };
}

/** Validates an Integration object. */
export const validateIntegration = (input: unknown) => validate(Integration, input);

/** Validates a ReconcilePolicy object. */
export const validateReconcilePolicy = (input: unknown) => validate(ReconcilePolicy, input);

/** What went wrong resolving admitted input: a zod error's issues by field, else its message. */
export function resolutionError(error: unknown): string {
  if (error instanceof z.ZodError) return describeIssues(error.issues).join('; ');
  return error instanceof Error ? error.message : String(error);
}
