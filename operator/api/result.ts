/**
 * The run result contract: the JSON a sync or drift-check run writes to its termination message
 * (at most 4 KiB), validated by the operator. Versioned so connectors and the operator can move
 * at different speeds. Custom connector images write the same document (docs/connectors.md).
 */
import { z } from 'zod';
import { ErrorClass, RunOutcome, RunStats } from './integration.ts';
import { parseDocument, type DocumentProblem } from './validate.ts';

/** The version of the result document this operator reads. */
export const RESULT_VERSION = 'tributary.dev/result/v1';

/** Maximum size of a termination message, as enforced by Kubernetes. */
export const MAX_RESULT_BYTES = 4096;

/** Exit code of a run that failed but may succeed on another attempt. */
export const EXIT_RETRYABLE = 75; // EX_TEMPFAIL
/** Exit code of a run that failed and will fail again until something changes. */
export const EXIT_NOT_RETRYABLE = 78; // EX_CONFIG

const ids = z.array(z.string().max(256)).max(10);

/** The result of one run. */
export const RunResult = z.object({
  version: z.literal(RESULT_VERSION),
  outcome: RunOutcome,
  error: z
    .object({
      class: ErrorClass,
      message: z.string().max(1024),
      retryable: z.boolean(),
    })
    .optional(),
  stats: RunStats.optional(),
  checkpoint: z.string().max(1024).optional(),
  quarantine: z
    .object({
      /** Records this run's pass quarantined (stats.quarantined, held ones retried included). */
      count: z.int().min(0),
      /** Of those, the ones whose id was not held (not in the run input): new to quarantine. */
      new: z.int().min(0).optional(),
      /** Up to 10 of the new ones, with their reasons. */
      samples: z
        .array(z.object({ id: z.string().max(256), reason: z.string().max(512) }))
        .max(10)
        .optional(),
      /** Ids of held records this run wrote or found unchanged: they leave quarantine. */
      released: z.array(z.string().max(256)).max(50).optional(),
      /** How many held records this run released (more than `released` when it was cut). */
      releasedCount: z.int().min(0).optional(),
      /** Whether the pass read the whole source (no incremental filter): it saw every record. */
      full: z.boolean().optional(),
    })
    .optional(),
  drift: z
    .object({
      missing: z.int().min(0),
      unexpected: z.int().min(0),
      mismatched: z.int().min(0),
      repaired: z.int().min(0).optional(),
      samples: z
        .object({ missing: ids.optional(), unexpected: ids.optional(), mismatched: ids.optional() })
        .optional(),
    })
    .optional(),
  schemaChanges: z
    .object({
      added: z.array(z.string().max(256)).max(32).optional(),
      removed: z.array(z.string().max(256)).max(32).optional(),
      truncated: z.boolean().optional(),
    })
    .optional(),
  deprecation: z
    .object({ message: z.string().max(1024), sunset: z.string().max(64).optional() })
    .optional(),
  /** With spec.webhook: the pass's gap detection (changes no delivery carried). */
  webhook: z
    .object({
      /** Records judged: changed since the previous pass's judge mark, older than the grace. */
      changed: z.int().min(0),
      /** Of those, the ones no delivery carried (written by this pass: backfilled). */
      missed: z.int().min(0),
      missedSamples: z.array(z.string().max(256)).max(10).optional(),
      /** Set when an intake could not be asked: missed is then not certain. */
      unavailable: z.string().max(512).optional(),
      /**
       * Where the source lists its sender endpoints (Stripe): whether the endpoint posting to the
       * Integration's route is disabled. Absent: not known (none listed, a restricted key).
       */
      endpointDisabled: z.boolean().optional(),
    })
    .optional(),
});
/** The result of one run. */
export type RunResult = z.infer<typeof RunResult>;

/** Why a termination message could not be used as a result. */
export type ResultProblem = DocumentProblem;

/** Parses a termination message into a result, or says precisely why it cannot. */
export function parseRunResult(
  message: string | undefined,
): { ok: true; result: RunResult } | { ok: false; problem: ResultProblem } {
  const parsed = parseDocument(RunResult, message);
  return parsed.ok ? { ok: true, result: parsed.value } : parsed;
}
