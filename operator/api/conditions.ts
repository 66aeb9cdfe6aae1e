/**
 * Condition types and reasons: the vocabulary of status. Every reason an SRE can read in
 * `kubectl get integrations` or an alert is declared here, once, as a CamelCase constant.
 */

/** Condition types of an Integration, with their polarity (kstatus). */
export const ConditionType = {
  /** Normal-true. The summary: True when the last sync succeeded and nothing needs attention. */
  Ready: 'Ready',
  /** Abnormal-true, present only while true: a run is in progress or a retry is pending. */
  Reconciling: 'Reconciling',
  /** Abnormal-true, present only while true: progress needs a human (bad spec, auth, Secret). */
  Stalled: 'Stalled',
  /** Normal-true: the outcome of the last sync run. */
  Synced: 'Synced',
  /** Abnormal-true: the last drift check found more differences than tolerated. */
  Drifted: 'Drifted',
  /** Abnormal-true: the last successful sync is older than freshness.maxAge. */
  Stale: 'Stale',
  /** Abnormal-true: more records are held in quarantine than tolerated (quarantine.maxRecords). */
  Degraded: 'Degraded',
  /** Abnormal-true: the provider announced deprecation or sunset of what is called. */
  Deprecated: 'Deprecated',
  /** Abnormal-true: spec.suspend is true; no new runs start. */
  Suspended: 'Suspended',
  /**
   * Abnormal-true: the last pass read far fewer or more records than recent passes (or none after
   * some), until the volume returns or a human acknowledges it.
   */
  VolumeAnomaly: 'VolumeAnomaly',
  /**
   * Abnormal-true, always present: the last sync saw live records gain fields spec.schema does
   * not list or lose fields it does (status.schemaChanges). Does not affect Ready.
   */
  SchemaChanged: 'SchemaChanged',
  /**
   * Abnormal-true, with spec.webhook: no verified delivery arrived for silence.window while a poll
   * found the source changing (or the provider reports the endpoint disabled).
   */
  WebhookSilent: 'WebhookSilent',
  /** Abnormal-true, with spec.webhook: the last pass found changes no delivery carried. */
  EventsMissed: 'EventsMissed',
  /**
   * Abnormal-true, with spec.webhook: most deliveries of the last 15 minutes were refused (bad
   * signature or timestamp), as after a secret rotated on one side only.
   */
  WebhookRejecting: 'WebhookRejecting',
} as const;
/** A condition type of an Integration or ReconcilePolicy. */
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Reasons carried by conditions. Each says why, in one CamelCase word. */
export const Reason = {
  /** Ready=True: everything is as desired. */
  Succeeded: 'Succeeded',
  /** The sync succeeded but set records aside. */
  PartiallySucceeded: 'PartiallySucceeded',
  /** A run is in progress. */
  Progressing: 'Progressing',
  /** A failed attempt waits for its next retry. */
  RetryScheduled: 'RetryScheduled',
  /** Waiting for the first run. */
  AwaitingFirstRun: 'AwaitingFirstRun',
  /** The spec cannot be acted on (a cron value out of range, an unknown time zone, ...). */
  InvalidSpec: 'InvalidSpec',
  /** spec.policyRef names a ReconcilePolicy that does not exist. */
  PolicyNotFound: 'PolicyNotFound',
  /** A referenced Secret or key does not exist. */
  SecretNotFound: 'SecretNotFound',
  /** The provider or destination refused the credentials. */
  AuthenticationFailed: 'AuthenticationFailed',
  /** The provider or destination says the configuration is wrong (e.g. unknown resource). */
  ConfigurationError: 'ConfigurationError',
  /** What the Integration calls does not exist. */
  NotFound: 'NotFound',
  /** Every attempt of a due run failed; waits for the next due run, a request or a spec change. */
  RetriesExhausted: 'RetriesExhausted',
  /** A retryable failure (timeout, rate limit, server error, network). */
  SyncFailed: 'SyncFailed',
  /** The run exceeded timeouts.run. */
  DeadlineExceeded: 'DeadlineExceeded',
  /** The run ended without a valid result message. */
  InvalidResult: 'InvalidResult',
  /** A drift check found differences beyond tolerance. */
  DriftDetected: 'DriftDetected',
  /** A drift check found the two systems within tolerance. */
  InSync: 'InSync',
  /** Drifted=Unknown: the last drift check failed; the message has its error. */
  DriftCheckFailed: 'DriftCheckFailed',
  /**
   * Drifted=Unknown: the built-in connector cannot list the destination; set
   * spec.destination.list to enable drift checks.
   */
  DriftCheckNotConfigured: 'DriftCheckNotConfigured',
  /** Drifted=Unknown: drift.mode is Off; no drift checks run. */
  DriftCheckDisabled: 'DriftCheckDisabled',
  /** The last successful sync is older than freshness.maxAge. */
  MaxAgeExceeded: 'MaxAgeExceeded',
  /** More records were quarantined than quarantine.maxRecords. */
  QuarantineExceeded: 'QuarantineExceeded',
  /** The provider announced deprecation or sunset. */
  DeprecationAnnounced: 'DeprecationAnnounced',
  /** spec.suspend is true. */
  Suspended: 'Suspended',
  /** SchemaChanged=True: live records gained or lost fields against spec.schema. */
  SchemaChangesDetected: 'SchemaChangesDetected',
  /** SchemaChanged=False: the last sync saw no field added or removed against spec.schema. */
  NoSchemaChanges: 'NoSchemaChanges',
  /** A due run was skipped because it could not start before startingDeadline. */
  MissedSchedule: 'MissedSchedule',
  /**
   * Stalled=True: the run's Job could not be created because a Job of its deterministic name
   * exists and belongs to something else; delete or rename that Job.
   */
  JobNameConflict: 'JobNameConflict',
  /**
   * Stalled=True: the API server refused to create the run's Job (a ResourceQuota, an admission
   * policy, RBAC); the message quotes its answer. Tried again every minute.
   */
  JobRejected: 'JobRejected',
  /**
   * Stalled=True: the operator was refused when it checked a referenced Secret (RBAC); the
   * message quotes the API server. Tried again every 15 s.
   */
  SecretLookupFailed: 'SecretLookupFailed',
  /**
   * Stalled=True: the run's image cannot be pulled (ErrImagePull or ImagePullBackOff for two
   * minutes, or InvalidImageName); the run was ended. Fix the image or the registry credentials.
   */
  ImagePullFailed: 'ImagePullFailed',
  /** Stalled=True: the run's pod could not be scheduled for two minutes; the run was ended. */
  PodUnschedulable: 'PodUnschedulable',
  /** Stalled=True: the run's container could not be created for two minutes; the run was ended. */
  ContainerCreateFailed: 'ContainerCreateFailed',
  /**
   * Stalled=True: the run's Job created no pod for two minutes (a ResourceQuota on pods, Pod
   * Security admission, a missing ServiceAccount); the run was ended. See the Job's Events.
   */
  PodNotCreated: 'PodNotCreated',
  /** VolumeAnomaly=True: the last pass read a volume outside volume.minRatio/maxRatio. */
  VolumeOutOfRange: 'VolumeOutOfRange',
  /** VolumeAnomaly=False: the last pass read a volume within range of recent passes. */
  VolumeInRange: 'VolumeInRange',
  /** VolumeAnomaly=False: a human accepted the current volume (volume-acknowledged-at). */
  VolumeAcknowledged: 'VolumeAcknowledged',
  /** VolumeAnomaly=Unknown: no earlier pass to compare with yet, or volume.mode is Off. */
  VolumeUnknown: 'VolumeUnknown',
  /** WebhookSilent=True: nothing verified arrived for silence.window while the source changed. */
  NoDeliveries: 'NoDeliveries',
  /** WebhookSilent=True: the provider reports the webhook endpoint disabled. */
  EndpointDisabled: 'EndpointDisabled',
  /** WebhookSilent=False: verified deliveries arrived within silence.window. */
  DeliveriesArriving: 'DeliveriesArriving',
  /** WebhookSilent=False: no delivery, but no pass found the source changing either. */
  SourceQuiet: 'SourceQuiet',
  /** WebhookSilent/EventsMissed=Unknown: the intake's figures could not be read. */
  IntakeUnavailable: 'IntakeUnavailable',
  /** EventsMissed=True: the last pass found changes no delivery carried (and wrote them). */
  ChangesWithoutDelivery: 'ChangesWithoutDelivery',
  /** EventsMissed=False: every change the last pass found had arrived as a delivery. */
  NoMissedEvents: 'NoMissedEvents',
  /** WebhookRejecting=True: most recent deliveries failed verification. */
  SignaturesRejected: 'SignaturesRejected',
  /** WebhookRejecting=False: recent deliveries verify. */
  SignaturesVerified: 'SignaturesVerified',
  /** Event (Normal): a run's Job was created. */
  RunStarted: 'RunStarted',
  /** Event (Normal): a run finished and everything it read was written. */
  RunSucceeded: 'RunSucceeded',
  /** Event (Normal): a run finished but set records aside (quarantine). */
  RunPartiallySucceeded: 'RunPartiallySucceeded',
  /**
   * Event (Normal): a condition present only while true (Stalled) was removed: what it reported
   * no longer holds.
   */
  Resolved: 'Resolved',
} as const;
/** A condition reason. */
export type Reason = (typeof Reason)[keyof typeof Reason];

const REASONS: ReadonlySet<string> = new Set(Object.values(Reason));

/** True when `value` is one of the declared reasons (e.g. a reason read back from status). */
export function isReason(value: string | undefined): value is Reason {
  return value !== undefined && REASONS.has(value);
}
