/**
 * What the webhook workers need from outside the runtime, as narrow ports: the Integration a
 * delivery belongs to and the Secret values it names (the intake serves both from the Kubernetes
 * API; tests from fixtures), and the durable inbox (operator/api/inbox.ts).
 */
import type { Integration, SecretKeyRef } from '../../api/index.ts';

/** An Integration as stored in the API. */
export type IntegrationObject = Integration;

/** Looks up Integrations and Secret values; undefined when absent. Throws when it cannot tell. */
export interface Directory {
  /** The Integration `namespace/name`, from a cache at most a few seconds old. */
  integration(namespace: string, name: string): Promise<IntegrationObject | undefined>;
  /** The value of `ref` in a Secret of `namespace`. Never logged. */
  secret(namespace: string, ref: SecretKeyRef): Promise<string | undefined>;
}
