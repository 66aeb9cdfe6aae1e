/**
 * The run input contract: what the operator hands to a run's pod (built-in connector or custom
 * image) through its environment. The counterpart of the result contract in result.ts.
 * Secret values never appear here: credentials arrive as their own variables via secretKeyRef.
 */
import { z } from 'zod';
import { timestamp } from './common.ts';
import { duration, httpURL } from './formats.ts';
import { EffectivePolicy } from './defaults.ts';
import { Destination, RecordSchema, RunKind, Source } from './integration.ts';
import { parseDocument, type DocumentProblem } from './validate.ts';

/** The version of the run input document this operator writes. */
export const RUN_VERSION = 'tributary.dev/run/v1';

/** Names of the environment variables of a run's container. */
export const RunEnv = {
  /** JSON of {@link RunInput}: the resolved spec (no secret values), policy and checkpoint. */
  Run: 'TRIBUTARY_RUN',
  /** `sync` or `drift-check`, also inside TRIBUTARY_RUN; lets a custom connector branch early. */
  RunKind: 'TRIBUTARY_RUN_KIND',
  /** The run's Job name (downward API: the pod's `batch.kubernetes.io/job-name` label), for logs. */
  JobName: 'TRIBUTARY_JOB_NAME',
  /** Where the run writes its result document: the container's termination message file. */
  ResultPath: 'TRIBUTARY_RESULT_PATH',
  /** The value of `spec.source.credentialsRef`, when set (from the Secret, via secretKeyRef). */
  SourceCredentials: 'TRIBUTARY_SOURCE_CREDENTIALS',
  /** The value of `spec.destination.credentialsRef`, when set (via secretKeyRef). */
  DestinationCredentials: 'TRIBUTARY_DESTINATION_CREDENTIALS',
} as const;

/** The file a run writes its result to; Kubernetes reports it as the termination message. */
export const RESULT_PATH = '/dev/termination-log';

/** The document in TRIBUTARY_RUN: everything a run needs except secret values. */
export const RunInput = z.object({
  version: z.literal(RUN_VERSION),
  kind: RunKind,
  attempt: z.int().min(1).describe('Attempt number within the due run, from 1.'),
  dueTime: timestamp().describe('When the run was due (RFC 3339).'),
  integration: z.object({
    namespace: z.string(),
    name: z.string(),
    uid: z.string().describe('Seeds idempotency keys: (integration UID, record id, version).'),
    generation: z.int().optional(),
  }),
  source: Source.optional(),
  destination: Destination.optional(),
  schema: RecordSchema.optional(),
  connector: z
    .object({ config: z.record(z.string(), z.unknown()).optional() })
    .optional()
    .describe('Custom connector only: spec.connector.config as is.'),
  policy: EffectivePolicy,
  checkpoint: z.string().optional().describe('Where the source resumes; absent on the first run.'),
  quarantine: z
    .object({
      ids: z
        .array(z.string().max(256))
        .max(50)
        .describe('Ids of the records held in quarantine (status.quarantine.samples).'),
    })
    .optional()
    .describe(
      'Sync only: the held records. The run retries them by id where the provider allows it ' +
        'and reports those now written or unchanged as released.',
    ),
  webhook: z
    .object({
      intake: z
        .array(httpURL())
        .min(1)
        .max(16)
        .describe(
          'Base URL of every intake store (e.g. http://10.1.2.3:8081), each asked POST /match.',
        ),
      grace: duration({ min: 0, max: 24 * 60 * 60 * 1000 }).describe(
        'Changes younger than this at pass start are not judged yet (late deliveries).',
      ),
      eventTypes: z
        .array(z.string().min(1).max(128))
        .max(64)
        .optional()
        .describe('spec.webhook.eventTypes: the events log check judges only these types.'),
    })
    .optional()
    .describe(
      'Sync only, with spec.webhook: gap detection. Absent: no webhook, or no intake was found.',
    ),
});
/** The document in TRIBUTARY_RUN. */
export type RunInput = z.infer<typeof RunInput>;

/** Parses the value of TRIBUTARY_RUN, or says precisely why it cannot. */
export function parseRunInput(
  text: string | undefined,
): { ok: true; input: RunInput } | { ok: false; problem: DocumentProblem } {
  const parsed = parseDocument(RunInput, text);
  return parsed.ok ? { ok: true, input: parsed.value } : parsed;
}
