/**
 * The operator pod's settings in the install's values (manifests/src/values.ts): its
 * ServiceAccount, security contexts, affinity, extra labels and environment. Each field has its
 * own default, so a value set with `--set` merges with the rest as Helm merges values.yaml.
 */
import { z } from 'zod';
import { DNS_LABEL } from '../../operator/api/formats.ts';

/** The UID and GID the image runs as (the Dockerfile's `USER 65532:65532`). */
export const RUN_AS = 65532;

/** Free-form object: a Kubernetes type the schema does not spell out field by field. */
const anyObject = () => z.record(z.string(), z.unknown());

const PodSecurityContext = z.strictObject({
  runAsNonRoot: z.boolean().default(true),
  runAsUser: z.int().min(0).default(RUN_AS),
  runAsGroup: z.int().min(0).default(RUN_AS),
  fsGroup: z.int().min(0).default(RUN_AS),
  fsGroupChangePolicy: z.enum(['Always', 'OnRootMismatch']).optional(),
  supplementalGroups: z.array(z.int().min(0)).optional(),
  seccompProfile: z
    .strictObject({
      type: z.enum(['RuntimeDefault', 'Localhost', 'Unconfined']).default('RuntimeDefault'),
      localhostProfile: z.string().max(4096).optional(),
    })
    .default({ type: 'RuntimeDefault' }),
});

/** The operator pod's securityContext; the defaults meet the `restricted` Pod Security level. */
export const PodSecurityContextValues = PodSecurityContext.default(() =>
  PodSecurityContext.parse({}),
).describe('securityContext of the operator pods. Default: the `restricted` Pod Security level.');

const SecurityContext = z.strictObject({
  allowPrivilegeEscalation: z.boolean().default(false),
  readOnlyRootFilesystem: z.boolean().default(true),
  runAsNonRoot: z.boolean().default(true),
  runAsUser: z.int().min(0).optional(),
  runAsGroup: z.int().min(0).optional(),
  capabilities: z
    .strictObject({
      drop: z.array(z.string().max(64)).default(['ALL']),
      add: z.array(z.string().max(64)).optional(),
    })
    .default({ drop: ['ALL'] }),
  seccompProfile: z
    .strictObject({
      type: z.enum(['RuntimeDefault', 'Localhost', 'Unconfined']),
      localhostProfile: z.string().max(4096).optional(),
    })
    .optional(),
});

/** The operator container's securityContext. */
export const SecurityContextValues = SecurityContext.default(() =>
  SecurityContext.parse({}),
).describe(
  'securityContext of the operator container. Default: no privilege escalation, a read-only ' +
    'root filesystem, no capabilities.',
);

/** The operator's ServiceAccount. */
export const ServiceAccountValues = z
  .strictObject({
    create: z
      .boolean()
      .default(true)
      .describe('Create the ServiceAccount. With `false`, `name` must exist already.'),
    name: z
      .string()
      .max(63)
      .regex(DNS_LABEL)
      .or(z.literal(''))
      .default('')
      .describe("Its name. Default: the operator objects' name (`<release>-operator`)."),
    annotations: z
      .record(z.string().max(317), z.string().max(4096))
      .default({})
      .describe('Annotations, e.g. `eks.amazonaws.com/role-arn` for workload identity.'),
  })
  .default({ create: true, name: '', annotations: {} })
  .describe('The ServiceAccount the operator pods run as; the RBAC is bound to it.');

/** Node and pod affinity of the operator pods, as `core/v1` Affinity spells it. */
export const AffinityValues = z
  .strictObject({
    nodeAffinity: anyObject().optional(),
    podAffinity: anyObject().optional(),
    podAntiAffinity: anyObject().optional(),
  })
  .default({})
  .describe('Affinity of the operator pods (nodeAffinity, podAffinity, podAntiAffinity).');

/** One extra environment variable of the operator container. */
const EnvVar = z.strictObject({
  name: z.string().min(1).max(253),
  value: z.string().optional(),
  valueFrom: anyObject().optional(),
});

/** Extra environment of the operator container, after the chart's own variables. */
export const ExtraEnvValues = z
  .array(EnvVar)
  .default([])
  .describe(
    'Extra environment variables of the operator container (`name` with `value` or `valueFrom`), ' +
      'e.g. HTTPS_PROXY.',
  );

/** Values Helm hands a subchart from its parent (`global.*`); the chart reads none of them. */
export const GlobalValues = anyObject()
  .optional()
  .describe("Values shared with a parent chart (Helm's `global`); allowed, not read.");
