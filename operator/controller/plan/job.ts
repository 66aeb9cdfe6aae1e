/**
 * The Job of one attempt of a run, built as data from the Integration, its policy and the due
 * time (docs/connectors.md): owned by the Integration, one pod, no Job-level retries, a pod that passes
 * the `restricted` Pod Security Standard, input through the environment and secretKeyRefs only.
 */
import type {
  V1Container,
  V1EnvVar,
  V1Job,
  V1ObjectMeta,
  V1OwnerReference,
  V1PodSpec,
  V1ResourceRequirements,
  V1SecretKeySelector,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  BUILT_IN_DEFAULTS,
  RUN_DEFAULTS,
  parseDuration,
  type EffectivePolicy,
  type Integration,
  type RunKind,
  type RunPolicy,
  type SecretKeyRef,
} from '../../api/index.ts';
import { integrationLabelValue, jobName } from './job-name.ts';
import { RESULT_PATH, RUN_VERSION, RunEnv, type RunInput } from '../../api/run-input.ts';
import { rfc3339 } from '../../lib/time.ts';

/** Label keys set on every run Job and its pod; the reconciler selects Jobs by them. */
export const JobLabel = {
  /** {@link integrationLabelValue} of the Integration name (the name itself up to 63 chars). */
  Integration: 'tributary.dev/integration',
  /** metadata.uid of the Integration: exact and never shortened; select a run's Jobs by it. */
  IntegrationUID: 'tributary.dev/integration-uid',
  /** `sync` or `drift-check`. */
  RunKind: 'tributary.dev/run-kind',
  /** Attempt number within the due run, from 1. */
  Attempt: 'tributary.dev/attempt',
  /** Always `tributary`. */
  ManagedBy: 'app.kubernetes.io/managed-by',
  /** Always `tributary-connector`. */
  Name: 'app.kubernetes.io/name',
} as const;

/** Annotation keys set on every run Job. */
export const JobAnnotation = {
  /** When the run was due, RFC 3339: what status.lastScheduledTime / activeRun.dueTime keep. */
  DueTime: 'tributary.dev/due-time',
  /** Attempt number within the due run, from 1. */
  Attempt: 'tributary.dev/attempt',
  /**
   * The resourceVersions of the referenced Secrets when the attempt started (`name=version`,
   * comma-separated; never a value): a stalled Integration resumes when they change.
   */
  Credentials: 'tributary.dev/credentials-version',
} as const;

/** Name of the run container. */
export const CONNECTOR_CONTAINER = 'connector';
/** The non-root user and group the run container runs as (distroless `nonroot`). */
export const RUN_AS_USER = 65532;

/** Requests and limits of a run container when the policy has no run settings (old status). */
export const DEFAULT_RESOURCES: V1ResourceRequirements = structuredClone(RUN_DEFAULTS.resources);

/** The parts of an Integration a Job is built from; namespace and uid are set on stored objects. */
export interface RunIntegration {
  /** Metadata of the stored Integration. */
  metadata: Integration['metadata'] & { namespace: string; uid: string };
  /** The validated spec. */
  spec: Integration['spec'];
}

/** Input of {@link buildJob}. */
export interface BuildJobInput {
  /** The Integration the run belongs to. */
  integration: RunIntegration;
  /** The policy in force (status.effectivePolicy). */
  policy: EffectivePolicy;
  /** What the run is for. */
  kind: RunKind;
  /** When the run was due: part of the Job name (whole seconds). */
  dueTime: Date;
  /** Attempt number within the due run, from 1. */
  attempt: number;
  /** Image of the operator, which also holds the built-in connector. */
  operatorImage: string;
  /** Where the source resumes (status.checkpoint.cursor); absent on the first run. */
  checkpoint?: string | undefined;
  /** Ids of the records held in quarantine, retried by a sync (status.quarantine.samples). */
  quarantined?: readonly string[] | undefined;
  /** The referenced Secrets' versions when the attempt starts ({@link JobAnnotation}). */
  credentials?: string | undefined;
  /** With spec.webhook: the intake stores a sync asks, and the grace of late deliveries. */
  gaps?: { intake: readonly string[]; grace: string } | undefined;
}

/** Builds the Job of one attempt of a run. Deterministic: the same input gives the same Job. */
export function buildJob(input: BuildJobInput): V1Job {
  const { integration, kind, dueTime, attempt } = input;
  const { name, namespace } = integration.metadata;
  const labels = jobLabels(integration, kind, attempt);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName({ integration: name, kind, dueTime, attempt }),
      namespace,
      labels,
      annotations: {
        [JobAnnotation.DueTime]: rfc3339(dueTime),
        [JobAnnotation.Attempt]: String(attempt),
        ...(input.credentials ? { [JobAnnotation.Credentials]: input.credentials } : {}),
      },
      ownerReferences: [ownerReference(integration)],
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: runDeadlineSeconds(input.policy),
      template: { metadata: podMetadata(input.policy.run, labels), spec: podSpec(input) },
    },
  };
}

/** The labels of a run's Job and pod. */
export function jobLabels(
  integration: RunIntegration,
  kind: RunKind,
  attempt: number,
): Record<string, string> {
  return {
    [JobLabel.Integration]: integrationLabelValue(integration.metadata.name),
    [JobLabel.IntegrationUID]: integration.metadata.uid,
    [JobLabel.RunKind]: kind,
    [JobLabel.Attempt]: String(attempt),
    [JobLabel.ManagedBy]: 'tributary',
    [JobLabel.Name]: 'tributary-connector',
  };
}

/** The controller reference from a run Job to its Integration. */
export function ownerReference(integration: RunIntegration): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'Integration',
    name: integration.metadata.name,
    uid: integration.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** `timeouts.run` in whole seconds, rounded up: the Job's activeDeadlineSeconds. */
function runDeadlineSeconds(policy: EffectivePolicy): number {
  const ms =
    parseDuration(policy.timeouts.run) ?? parseDuration(BUILT_IN_DEFAULTS.timeouts.run) ?? 0;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** A pod that passes the `restricted` Pod Security Standard and mounts no token. */
function podSpec(input: BuildJobInput): V1PodSpec {
  const spec: V1PodSpec = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      fsGroup: RUN_AS_USER,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [container(input)],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  };
  return Object.assign(spec, podSettings(input.policy.run));
}

/** The pod's labels (the operator's over the policy's) and annotations (run.podAnnotations). */
function podMetadata(run: RunPolicy | undefined, labels: Record<string, string>): V1ObjectMeta {
  const metadata: V1ObjectMeta = { labels: { ...run?.podLabels, ...labels } };
  if (run?.podAnnotations !== undefined) metadata.annotations = { ...run.podAnnotations };
  return metadata;
}

/** The pod spec fields set by `policy.run`, only those it sets. */
function podSettings(run: RunPolicy | undefined): Partial<V1PodSpec> {
  const settings: Partial<V1PodSpec> = {};
  if (run === undefined) return settings;
  if (run.serviceAccountName !== undefined) settings.serviceAccountName = run.serviceAccountName;
  if (run.imagePullSecrets !== undefined)
    settings.imagePullSecrets = run.imagePullSecrets.map(({ name }) => ({ name }));
  if (run.nodeSelector !== undefined) settings.nodeSelector = { ...run.nodeSelector };
  if (run.tolerations !== undefined) settings.tolerations = structuredClone(run.tolerations);
  if (run.affinity !== undefined) settings.affinity = structuredClone(run.affinity);
  if (run.priorityClassName !== undefined) settings.priorityClassName = run.priorityClassName;
  return settings;
}

/** Requests and limits of the run container: `policy.run.resources` as resolved. */
function resources(run: RunPolicy | undefined): V1ResourceRequirements {
  const resolved = run?.resources;
  if (resolved === undefined) return structuredClone(DEFAULT_RESOURCES);
  const result: V1ResourceRequirements = {};
  if (resolved.requests !== undefined && Object.keys(resolved.requests).length > 0)
    result.requests = { ...resolved.requests };
  if (resolved.limits !== undefined && Object.keys(resolved.limits).length > 0)
    result.limits = { ...resolved.limits };
  return result;
}

/** The run container: the built-in connector, or the custom connector image with its command. */
function container(input: BuildJobInput): V1Container {
  const custom = input.integration.spec.connector;
  const result: V1Container = {
    name: CONNECTOR_CONTAINER,
    image: custom?.image ?? input.operatorImage,
    env: runEnv(input),
    resources: resources(input.policy.run),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    terminationMessagePath: RESULT_PATH,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (custom === undefined) result.args = [input.kind];
  else {
    if (custom.command !== undefined) result.command = [...custom.command];
    if (custom.args !== undefined) result.args = [...custom.args];
  }
  return result;
}

/** The environment of the run container: the run input, and credentials by reference only. */
function runEnv(input: BuildJobInput): V1EnvVar[] {
  const { source, destination } = input.integration.spec;
  const env: V1EnvVar[] = [
    { name: RunEnv.RunKind, value: input.kind },
    { name: RunEnv.ResultPath, value: RESULT_PATH },
    {
      name: RunEnv.JobName,
      valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
    },
    { name: RunEnv.Run, value: JSON.stringify(buildRunInput(input)) },
  ];
  if (source?.credentialsRef !== undefined) {
    env.push(secretEnv(RunEnv.SourceCredentials, source.credentialsRef));
  }
  if (destination?.credentialsRef !== undefined) {
    env.push(secretEnv(RunEnv.DestinationCredentials, destination.credentialsRef));
  }
  return env;
}

function secretEnv(name: string, ref: SecretKeyRef): V1EnvVar {
  const secretKeyRef: V1SecretKeySelector = { name: ref.name, key: ref.key };
  return { name, valueFrom: { secretKeyRef } };
}

/** The TRIBUTARY_RUN document of a run: the resolved spec and policy, no secret values. */
export function buildRunInput(input: BuildJobInput): RunInput {
  const { metadata, spec } = input.integration;
  const run: RunInput = {
    version: RUN_VERSION,
    kind: input.kind,
    attempt: input.attempt,
    dueTime: rfc3339(input.dueTime),
    integration: {
      namespace: metadata.namespace,
      name: metadata.name,
      uid: metadata.uid,
      generation: metadata.generation,
    },
    source: spec.source,
    destination: spec.destination,
    schema: spec.schema,
    connector: spec.connector === undefined ? undefined : { config: spec.connector.config },
    policy: input.policy,
    checkpoint: input.checkpoint,
  };
  if (input.kind === 'sync' && input.quarantined !== undefined && input.quarantined.length > 0)
    run.quarantine = { ids: [...input.quarantined] };
  const gaps = input.gaps;
  if (input.kind === 'sync' && spec.webhook !== undefined && gaps && gaps.intake.length > 0)
    run.webhook = {
      intake: gaps.intake.slice(0, 16),
      grace: gaps.grace,
      ...(spec.webhook.eventTypes === undefined ? {} : { eventTypes: spec.webhook.eventTypes }),
    };
  return run;
}
