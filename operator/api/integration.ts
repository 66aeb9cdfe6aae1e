/**
 * Integration: one connection between an external system (the source) and the platform (the
 * destination), run by the built-in connector or a custom connector image.
 */
import { z } from 'zod';
import {
  Conditions,
  jsonDepthAtMost,
  LocalObjectRef,
  MAX_JSON_DEPTH,
  SecretKeyRef,
  resourceObject,
  timestamp,
  withRules,
} from './common.ts';
import { headerName, httpURL, jsonPath } from './formats.ts';
import { WebhookSpec, WebhookStatus } from './webhook.ts';
import { ReconcilePolicySpec } from './policy.ts';
import { EffectivePolicy } from './defaults.ts';

/** Name of a query parameter. */
const queryParam = () =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.\-[\]]+$/, { error: 'must be a plain query parameter name' });

/** How to walk through the pages of a list endpoint. */
export const Pagination = withRules(
  z.strictObject({
    type: z
      .enum(['cursor', 'link', 'offset'])
      .describe(
        'cursor: the response carries the next cursor (cursorPath) sent back as cursorParam; ' +
          'link: the next page is the rel="next" URL of the Link header; offset: pages are ' +
          'requested by offsetParam and limitParam until a short page.',
      ),
    cursorPath: jsonPath()
      .optional()
      .describe('cursor: path of the next cursor in the response body, e.g. next_cursor.'),
    cursorParam: queryParam()
      .optional()
      .describe('cursor: query parameter that carries the cursor. Default: cursor.'),
    offsetParam: queryParam()
      .optional()
      .describe('offset: query parameter that carries the offset. Default: offset.'),
    limitParam: queryParam()
      .optional()
      .describe('Query parameter that carries the page size. Default: limit.'),
    pageSize: z.int().min(1).max(1000).optional().describe('Records per page. Default: 100.'),
  }),
  [
    {
      rule: "self.type != 'cursor' || has(self.cursorPath)",
      message: 'cursorPath is required when type is cursor',
      field: 'cursorPath',
      holds: (p) => p.type !== 'cursor' || p.cursorPath !== undefined,
    },
  ],
).describe('How to walk through the pages of a list endpoint.');

/** How requests authenticate with the value of a `credentialsRef`. */
export const HTTPAuth = withRules(
  z.strictObject({
    type: z
      .enum(['bearer', 'basic', 'header'])
      .describe(
        'bearer: "Authorization: Bearer <secret>"; basic: the secret holds "user:password"; ' +
          'header: the secret is sent as is in the header named by header.',
      ),
    header: headerName().optional().describe('header: the name of the header, e.g. X-API-Key.'),
  }),
  [
    {
      rule: "self.type != 'header' || has(self.header)",
      message: 'header is required when type is header',
      field: 'header',
      holds: (a) => a.type !== 'header' || a.header !== undefined,
    },
  ],
).describe('How requests authenticate with the value of credentialsRef.');

/** The generic HTTP provider's description of a list endpoint. */
export const HTTPSource = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^\/\S*$/, { error: 'must start with /' })
      .describe('Path of the list endpoint, appended to baseURL, e.g. /v1/items.'),
    query: z
      .record(queryParam(), z.string().max(1024).describe('Value of the query parameter.'))
      .optional()
      .meta({ maxProperties: 32 })
      .describe('Extra query parameters sent with every page request.'),
    recordsPath: jsonPath()
      .optional()
      .describe('Path of the array of records in the response body. Default: the body itself.'),
    pagination: Pagination.optional(),
    idField: jsonPath().optional().describe('Path of the unique record id. Default: id.'),
    updatedField: jsonPath()
      .optional()
      .describe(
        'Path of the last-modified field; enables incremental syncs and is part of the record ' +
          'version.',
      ),
    itemPath: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^\/\S*\{id\}\S*$/, { error: 'must start with / and contain {id}' })
      .optional()
      .describe(
        'Path of one record, appended to baseURL, {id} replaced by its URL-encoded id, e.g. ' +
          '/v1/items/{id}; the body is the record. Lets later syncs retry quarantined records ' +
          'by id; without it they are retried only when a pass reads them again.',
      ),
    auth: HTTPAuth.optional(),
  })
  .describe('provider http only: how to read records from a generic HTTP API.');

/** Where records come from. */
export const Source = withRules(
  z.strictObject({
    provider: z
      .enum(['stripe', 'shopify', 'http'])
      .describe('The external system: stripe, shopify or a generic http API.'),
    baseURL: httpURL()
      .optional()
      .describe(
        'Base URL of the provider API. Default for stripe: https://api.stripe.com. Required ' +
          'for shopify (https://<shop>.myshopify.com) and http.',
      ),
    apiVersion: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional()
      .describe(
        'Pinned provider API version: the Stripe-Version header for stripe, the URL segment ' +
          '(e.g. 2024-07) for shopify. Required for shopify.',
      ),
    resource: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[a-z0-9_]+(\/[a-z0-9_]+)*$/, { error: 'must be a resource name such as customers' })
      .optional()
      .describe('What to sync, e.g. customers or orders. Required for stripe and shopify.'),
    credentialsRef: SecretKeyRef.optional().describe(
      'The Secret key holding the API key or token for the provider. Required for stripe and ' +
        'shopify, and for http when auth is set.',
    ),
    http: HTTPSource.optional(),
  }),
  [
    {
      rule: "!(self.provider in ['stripe', 'shopify']) || has(self.resource)",
      message: 'resource is required for providers stripe and shopify',
      field: 'resource',
      holds: (s) => s.provider === 'http' || s.resource !== undefined,
    },
    {
      rule: "!(self.provider in ['stripe', 'shopify']) || has(self.credentialsRef)",
      message: 'credentialsRef is required for providers stripe and shopify',
      field: 'credentialsRef',
      holds: (s) => s.provider === 'http' || s.credentialsRef !== undefined,
    },
    {
      rule: "!(self.provider in ['shopify', 'http']) || has(self.baseURL)",
      message: 'baseURL is required for providers shopify and http',
      field: 'baseURL',
      holds: (s) => s.provider === 'stripe' || s.baseURL !== undefined,
    },
    {
      rule: "self.provider != 'shopify' || has(self.apiVersion)",
      message: 'apiVersion is required for provider shopify (e.g. 2024-07)',
      field: 'apiVersion',
      holds: (s) => s.provider !== 'shopify' || s.apiVersion !== undefined,
    },
    {
      rule: "(self.provider == 'http') == has(self.http)",
      message: 'http is required for provider http and not allowed for other providers',
      field: 'http',
      holds: (s) => (s.provider === 'http') === (s.http !== undefined),
    },
    {
      rule: '!has(self.http) || !has(self.http.auth) || has(self.credentialsRef)',
      message: 'credentialsRef is required when http.auth is set',
      field: 'credentialsRef',
      holds: (s) => s.http?.auth === undefined || s.credentialsRef !== undefined,
    },
  ],
).describe('Where records come from: the external system.');

/** How to list the destination, for drift checks. */
export const DestinationList = z
  .strictObject({
    url: httpURL().describe('URL of the list endpoint of the destination.'),
    recordsPath: jsonPath()
      .optional()
      .describe('Path of the array of records in the response body. Default: the body itself.'),
    pagination: Pagination.optional(),
    idField: jsonPath().optional().describe('Path of the unique record id. Default: id.'),
  })
  .describe('How to list the destination, for drift checks.');

/** Where records go: the platform's own HTTP API. */
export const Destination = z
  .strictObject({
    url: httpURL().describe(
      'URL each record is written to; {id} is replaced by the URL-encoded record id, e.g. ' +
        'http://ledger.payments.svc/customers/{id}.',
    ),
    method: z
      .enum(['PUT', 'POST', 'PATCH'])
      .optional()
      .describe('HTTP method of the write. Default: PUT.'),
    credentialsRef: SecretKeyRef.optional().describe(
      'The Secret key holding the token for the destination, if it needs one.',
    ),
    auth: HTTPAuth.optional(),
    list: DestinationList.optional(),
  })
  .describe(
    'Where records go: the platform HTTP API. Every write carries an Idempotency-Key derived ' +
      'from the Integration UID, the record id and the record version.',
  );

/** The JSON types a contracted field may have. */
export const FieldType = z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array']);

/** The contract of one field of a record. */
export const FieldSchema = z
  .strictObject({
    type: FieldType.describe('JSON type of the field.'),
    nullable: z.boolean().optional().describe('Whether null is accepted. Default: false.'),
    format: z
      .enum(['date-time', 'date', 'email', 'uri', 'uuid'])
      .optional()
      .describe('string only: a format the value must have.'),
    enum: z
      .array(z.string().max(256).describe('An allowed value.'))
      .max(64)
      .optional()
      .describe('string only: the values allowed.'),
    pattern: z
      .string()
      .max(512)
      .optional()
      .describe('string only: a regular expression the value must match.'),
  })
  .describe('The contract of one field.');

/** The record contract, a subset of JSON Schema. */
export const RecordSchema = withRules(
  z.strictObject({
    required: z
      .array(z.string().min(1).max(128).describe('Name of a required field.'))
      .max(128)
      .optional()
      .describe('Fields every record must have; records without them are quarantined.'),
    properties: z
      .record(z.string().min(1).max(128), FieldSchema)
      .optional()
      .meta({ maxProperties: 128 })
      .describe(
        'Contracted fields by name, or by path for nested fields (billing.address.city; ' +
          'lines[].sku for every element of an array). Drift checks compare these; fields ' +
          'seen in records but not listed here are reported as schema changes (nested ones ' +
          'only under a path listed here).',
      ),
  }),
  [
    {
      // Per element, as zod reads it: an empty required list needs no properties.
      rule: '!has(self.required) || self.required.all(f, has(self.properties) && f in self.properties)',
      message: 'every field in required must also be listed in properties',
      field: 'required',
      holds: (s) =>
        (s.required ?? []).every((f) => s.properties !== undefined && f in s.properties),
    },
  ],
).describe('The record contract (a JSON Schema subset): invalid records are quarantined.');

/** A container image reference. */
const imageRef = () =>
  z
    .string()
    .min(1)
    .max(512)
    .regex(/^[a-z0-9]+([._\-/:@][A-Za-z0-9_.-]+)*$/, {
      error: 'must be a container image reference such as ghcr.io/acme/connector:1.4.2',
    });

/** A custom connector image that speaks the run contract instead of the built-in connector. */
export const Connector = z
  .strictObject({
    image: imageRef().describe('Image of the connector, e.g. ghcr.io/acme/netsuite:1.4.2.'),
    command: z
      .array(z.string().max(4096).describe('One element of the entrypoint.'))
      .max(16)
      .optional()
      .describe("Entrypoint of the connector container. Default: the image's own."),
    args: z
      .array(z.string().max(4096).describe('One argument.'))
      .max(64)
      .optional()
      .describe('Arguments passed to the connector.'),
    config: z
      .record(z.string(), z.unknown())
      .refine((config) => jsonDepthAtMost(config, MAX_JSON_DEPTH), {
        error: `must nest at most ${MAX_JSON_DEPTH} levels of objects and arrays`,
      })
      .optional()
      .meta({ 'x-kubernetes-preserve-unknown-fields': true })
      .describe(
        'Free-form configuration handed to the connector as is, at most ' +
          `${MAX_JSON_DEPTH} levels deep. No secrets here.`,
      ),
  })
  .describe(
    'A custom connector image instead of the built-in one; it gets source and destination as ' +
      'they are and must follow the run contract (docs/connectors.md).',
  );

/** The desired state of an Integration. */
export const IntegrationSpec = withRules(
  z.strictObject({
    suspend: z
      .boolean()
      .optional()
      .describe('Start no new runs while true; a running one finishes. Default: false.'),
    policyRef: LocalObjectRef.optional().describe(
      'The ReconcilePolicy in this namespace that says how this Integration is run. Default: ' +
        'built-in defaults.',
    ),
    source: Source.optional(),
    destination: Destination.optional(),
    schema: RecordSchema.optional(),
    overrides: ReconcilePolicySpec.optional().describe(
      'Fields that take precedence over the ReconcilePolicy for this Integration only; same ' +
        'shape as ReconcilePolicy.spec.',
    ),
    connector: Connector.optional(),
    webhook: WebhookSpec.optional(),
  }),
  [
    {
      rule: 'has(self.connector) || (has(self.source) && has(self.destination))',
      message:
        'set source and destination to use the built-in connector, or connector for a custom image',
      holds: (s) =>
        s.connector !== undefined || (s.source !== undefined && s.destination !== undefined),
    },
    {
      rule: '!has(self.webhook) || (has(self.source) && has(self.destination))',
      message: 'webhook needs source and destination: the intake writes through them',
      field: 'webhook',
      holds: (s) =>
        s.webhook === undefined || (s.source !== undefined && s.destination !== undefined),
    },
    {
      rule:
        "!has(self.webhook) || !has(self.webhook.mode) || self.webhook.mode != 'fetch' || " +
        "(has(self.source) && (self.source.provider != 'http' || " +
        '(has(self.source.http) && has(self.source.http.itemPath))))',
      message:
        'webhook.mode fetch re-reads records by id: use provider stripe or shopify, or set ' +
        'source.http.itemPath',
      field: 'webhook',
      holds: (s) =>
        s.webhook?.mode !== 'fetch' ||
        (s.source !== undefined &&
          (s.source.provider !== 'http' || s.source.http?.itemPath !== undefined)),
    },
  ],
).describe('The desired state of the Integration.');
/** The desired state of an Integration. */
export type IntegrationSpec = z.infer<typeof IntegrationSpec>;

/** What a run is for. */
export const RunKind = z.enum(['sync', 'drift-check']);
/** What a run is for. */
export type RunKind = z.infer<typeof RunKind>;

/** How a run ended. */
export const RunOutcome = z.enum(['Succeeded', 'PartiallySucceeded', 'Failed']);
/** How a run ended. */
export type RunOutcome = z.infer<typeof RunOutcome>;

/** The classes every error is sorted into, once, at the edge (docs/connectors.md). */
export const ErrorClass = z.enum([
  'Timeout',
  'RateLimited',
  'ServerError',
  'Network',
  'Authentication',
  'Configuration',
  'NotFound',
  'InvalidRecord',
  'Internal',
]);
/** The classes every error is sorted into. */
export type ErrorClass = z.infer<typeof ErrorClass>;

/** Record counts of a run. */
export const RunStats = z
  .strictObject({
    read: z.int().min(0).describe('Records read from the source.'),
    written: z.int().min(0).describe('Records written to the destination.'),
    unchanged: z.int().min(0).describe('Records the destination already had in this version.'),
    quarantined: z.int().min(0).describe('Invalid or refused records set aside with a reason.'),
    failed: z.int().min(0).describe('Records not written because the run failed.'),
  })
  .describe('Record counts of a run.');

/** Why a run failed. */
export const RunError = z
  .strictObject({
    class: ErrorClass.describe('The error class.'),
    message: z.string().max(1024).describe('What went wrong, without secrets.'),
    retryable: z.boolean().describe('Whether another attempt may succeed.'),
  })
  .describe('Why a run failed.');

/** Fields live records gained or lost against spec.schema, as the last sync saw them. */
export const SchemaChanges = z
  .strictObject({
    added: z
      .array(z.string().max(256))
      .max(32)
      .optional()
      .describe(
        'Fields that appeared: dotted paths (billing.address.zip; lines[].sku for array elements).',
      ),
    removed: z
      .array(z.string().max(256))
      .max(32)
      .optional()
      .describe('Contracted fields (spec.schema.properties) that no record of a whole pass had.'),
    truncated: z
      .boolean()
      .optional()
      .describe('True when more fields changed than the lists hold (32 each, 200 tracked).'),
  })
  .describe('Fields that appeared in or vanished from live records, against spec.schema.');
/** Fields live records gained or lost against spec.schema. */
export type SchemaChanges = z.infer<typeof SchemaChanges>;

/** One finished run, as kept in status. */
export const RunRecord = z
  .strictObject({
    jobName: z.string().max(63).describe('Name of the Job of the run.'),
    kind: RunKind.describe('sync or drift-check.'),
    attempt: z.int().min(1).describe('Attempt number within its due run, from 1.'),
    dueTime: timestamp().optional().describe('When the run was due.'),
    startTime: timestamp().optional().describe('When the run started.'),
    completionTime: timestamp().optional().describe('When the run finished.'),
    outcome: RunOutcome.describe('How the run ended.'),
    reason: z
      .string()
      .max(64)
      .optional()
      .describe('CamelCase reason of a failure, e.g. DeadlineExceeded or InvalidResult.'),
    stats: RunStats.optional(),
    drift: z
      .strictObject({
        missing: z.int().min(0).describe('Source records missing from the destination.'),
        unexpected: z.int().min(0).describe('Destination records absent from the source.'),
        mismatched: z.int().min(0).describe('Records whose contracted fields differ.'),
        repaired: z.int().min(0).optional().describe('Records re-applied in Repair mode.'),
      })
      .optional()
      .describe('What a drift check found (drift-check runs only).'),
    error: RunError.optional(),
  })
  .describe('One finished run.');
/** One finished run, as kept in status. */
export type RunRecord = z.infer<typeof RunRecord>;

/** The run in progress. */
export const ActiveRun = z
  .strictObject({
    jobName: z.string().max(63).describe('Name of the Job of the run.'),
    kind: RunKind.describe('sync or drift-check.'),
    attempt: z.int().min(1).describe('Attempt number within its due run, from 1.'),
    dueTime: timestamp().describe('When the run was due.'),
    startTime: timestamp().optional().describe('When the Job was created.'),
  })
  .describe('The run in progress, if any.');

const idSamples = (what: string) =>
  z.array(z.string().max(256)).max(10).optional().describe(`Up to 10 ids of ${what} records.`);

/** The outcome of the last drift check. */
export const DriftStatus = z
  .strictObject({
    checkTime: timestamp().describe('When the last drift check finished.'),
    missing: z.int().min(0).describe('Source records missing from the destination.'),
    unexpected: z.int().min(0).describe('Destination records absent from the source.'),
    mismatched: z.int().min(0).describe('Records whose contracted fields differ.'),
    total: z.int().min(0).describe('missing + unexpected + mismatched.'),
    repaired: z.int().min(0).optional().describe('Records re-applied in Repair mode.'),
    samples: z
      .strictObject({
        missing: idSamples('missing'),
        unexpected: idSamples('unexpected'),
        mismatched: idSamples('mismatched'),
      })
      .optional()
      .describe('Sample ids of each kind of difference.'),
  })
  .describe('The outcome of the last drift check.');

/** What an SRE reads about an Integration. */
export const IntegrationStatus = z
  .strictObject({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation this status was computed from.'),
    conditions: Conditions().optional(),
    activeRun: ActiveRun.optional(),
    lastSync: RunRecord.optional().describe('The last finished sync run.'),
    lastDriftCheck: RunRecord.optional().describe(
      'The last finished drift-check run, failed ones included (status.drift keeps the last ' +
        'counts a check produced).',
    ),
    lastSuccessfulSyncTime: timestamp()
      .optional()
      .describe('When the last sync that succeeded (fully or partially) finished.'),
    nextSyncTime: timestamp().optional().describe('When the next sync run is due.'),
    nextProbeTime: timestamp()
      .optional()
      .describe(
        'While Stalled by a failed run: when one run probes whether the failure went away by ' +
          'itself (the first due time an hour or more after the failure). A change of the spec, ' +
          'the policy or a referenced Secret, or a sync request, starts one sooner.',
      ),
    lastScheduledTime: timestamp()
      .optional()
      .describe('Due time of the last sync run that was started or skipped.'),
    missedRuns: z
      .int()
      .min(0)
      .optional()
      .describe('Due sync runs skipped because they could not start before startingDeadline.'),
    nextDriftCheckTime: timestamp().optional().describe('When the next drift check is due.'),
    lastScheduledDriftCheckTime: timestamp()
      .optional()
      .describe('Due time of the last drift check that was started.'),
    retry: z
      .strictObject({
        attempt: z.int().min(1).describe('The attempt that failed last.'),
        nextAttemptTime: timestamp().describe('When the next attempt starts.'),
      })
      .optional()
      .describe('Present while a failed run waits for its next attempt.'),
    checkpoint: z
      .strictObject({
        cursor: z.string().max(1024).describe('Opaque incremental cursor of the source.'),
        time: timestamp().describe('When the checkpoint was committed.'),
      })
      .optional()
      .describe('Where the next sync resumes.'),
    drift: DriftStatus.optional(),
    quarantine: z
      .strictObject({
        count: z
          .int()
          .min(0)
          .describe('Records held in quarantine, the listed ones and those beyond the list.'),
        samples: z
          .array(
            z.strictObject({
              id: z.string().max(256).describe('Record id.'),
              reason: z.string().max(512).describe('Why it was quarantined (the latest reason).'),
              firstSeen: timestamp()
                .optional()
                .describe(
                  'When a sync first quarantined it (absent on records listed by an operator ' +
                    'that did not keep it).',
                ),
            }),
          )
          .max(50)
          .optional()
          .describe('Up to 50 held records, oldest first: later syncs retry these by id.'),
      })
      .optional()
      .describe(
        'Records set aside until a sync writes them or a human acknowledges them ' +
          '(tributary.dev/quarantine-acknowledged-at), across passes, whatever the cursor does.',
      ),
    schemaChanges: SchemaChanges.optional(),
    deprecation: z
      .strictObject({
        message: z.string().max(1024).describe('What the provider announced.'),
        sunset: timestamp().optional().describe('When the provider stops serving it.'),
      })
      .optional()
      .describe('A deprecation or sunset the provider announced for what this Integration calls.'),
    history: z
      .array(RunRecord)
      .max(20)
      .optional()
      .describe('The last finished runs, newest first.'),
    effectivePolicy: EffectivePolicy.optional().describe(
      'The policy in force: built-in defaults < ReconcilePolicy < spec.overrides.',
    ),
    lastHandledSyncRequest: z
      .string()
      .max(256)
      .optional()
      .describe('The last tributary.dev/sync-requested-at value acted on.'),
    lastHandledDriftCheckRequest: z
      .string()
      .max(256)
      .optional()
      .describe('The last tributary.dev/drift-check-requested-at value acted on.'),
    lastHandledResyncRequest: z
      .string()
      .max(256)
      .optional()
      .describe('The last tributary.dev/resync-requested-at value acted on (a full pass started).'),
    lastHandledVolumeAcknowledgement: z
      .string()
      .max(256)
      .optional()
      .describe('The last tributary.dev/volume-acknowledged-at value acted on.'),
    lastHandledQuarantineAcknowledgement: z
      .string()
      .max(256)
      .optional()
      .describe('The last tributary.dev/quarantine-acknowledged-at value acted on.'),
    webhook: WebhookStatus.optional(),
    volumeBaselineSince: timestamp()
      .optional()
      .describe(
        'Completion time of the pass a human acknowledged: the volume guard compares only with ' +
          'it and later passes.',
      ),
  })
  .describe('What the operator observed and did.');
/** What an SRE reads about an Integration. */
export type IntegrationStatus = z.infer<typeof IntegrationStatus>;

/** An Integration object as stored in the API. */
export const Integration = resourceObject('Integration', IntegrationSpec, IntegrationStatus);
/** An Integration object as stored in the API. */
export type Integration = z.infer<typeof Integration>;

/** The annotation that requests a sync now; any new value triggers once. */
export const SYNC_REQUESTED_ANNOTATION = 'tributary.dev/sync-requested-at';
/** The annotation that requests a drift check now; any new value triggers once. */
export const DRIFT_CHECK_REQUESTED_ANNOTATION = 'tributary.dev/drift-check-requested-at';
/** The annotation that requests one full pass from no checkpoint; any new value triggers once. */
export const RESYNC_REQUESTED_ANNOTATION = 'tributary.dev/resync-requested-at';
/** The annotation that accepts the current volume after a VolumeAnomaly; any new value, once. */
export const VOLUME_ACKNOWLEDGED_ANNOTATION = 'tributary.dev/volume-acknowledged-at';
/** The annotation that drops every held quarantined record; any new value triggers once. */
export const QUARANTINE_ACKNOWLEDGED_ANNOTATION = 'tributary.dev/quarantine-acknowledged-at';
