/**
 * The source provider, destination writer and validator of each webhook-driven Integration, made
 * once and reused while its spec, policy and credentials stay the same: the provider's rate limit
 * and the keep-alive connections then span deliveries instead of restarting with each one.
 */
import type { Dispatcher } from 'undici';
import { RUN_VERSION, resolvePolicy, type SecretKeyRef } from '../../api/index.ts';
import type { RunInput } from '../../api/run-input.ts';
import type { Log } from '../../lib/log.ts';
import { connectRun, type RunParts } from '../connect.ts';
import { SyncError } from '../errors.ts';
import { sha256Hex } from '../json.ts';
import type { Directory, IntegrationObject } from './ports.ts';

/** At most this many Integrations keep their parts at once (least recently used dropped). */
const MAX_CACHED = 256;

/** Options of {@link Connections}. */
export interface ConnectionsOptions {
  directory: Directory;
  dispatcher: Dispatcher;
  log: Log;
  /** Request timeout toward source and destination, in ms. */
  timeoutMs: number;
}

/** The credentials an Integration names: source and destination values (never logged). */
interface Credentials {
  source: string | undefined;
  destination: string | undefined;
}

/** The run input a delivery is applied with: a sync of the Integration as it is now. */
export function webhookRunInput(integration: IntegrationObject, now: number): RunInput {
  const { metadata, spec, status } = integration;
  return {
    version: RUN_VERSION,
    kind: 'sync',
    attempt: 1,
    dueTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    integration: {
      namespace: metadata.namespace ?? '',
      name: metadata.name,
      uid: metadata.uid ?? '',
      ...(metadata.generation === undefined ? {} : { generation: metadata.generation }),
    },
    source: spec.source,
    destination: spec.destination,
    schema: spec.schema,
    policy: status?.effectivePolicy ?? resolvePolicy(undefined, spec.overrides),
  };
}

/** Provider, writer and validator per Integration. */
export class Connections {
  readonly #options: ConnectionsOptions;
  readonly #parts = new Map<string, { key: string; parts: RunParts }>();

  constructor(options: ConnectionsOptions) {
    this.#options = options;
  }

  /** The parts of `integration` now: cached while nothing they depend on changed. */
  async of(integration: IntegrationObject, now: number): Promise<RunParts> {
    const credentials = await this.#credentials(integration);
    const input = webhookRunInput(integration, now);
    const key = sha256Hex(
      JSON.stringify([input.source, input.destination, input.schema, input.policy, credentials]),
    );
    const uid = input.integration.uid;
    const cached = this.#parts.get(uid);
    if (cached?.key === key) {
      this.#parts.delete(uid);
      this.#parts.set(uid, cached);
      return cached.parts;
    }
    const { dispatcher, log, timeoutMs } = this.#options;
    const parts = connectRun(
      {
        input,
        credentials,
        log: log.child({
          namespace: input.integration.namespace,
          integration: input.integration.name,
        }),
        dispatcher,
      },
      'sync',
      dispatcher,
      timeoutMs,
    );
    this.#parts.delete(uid);
    this.#parts.set(uid, { key, parts });
    if (this.#parts.size > MAX_CACHED) this.#parts.delete(this.#parts.keys().next().value ?? '');
    return parts;
  }

  /** Reads the Secret values the source and destination name. */
  async #credentials(integration: IntegrationObject): Promise<Credentials> {
    const namespace = integration.metadata.namespace ?? '';
    const read = async (ref: SecretKeyRef | undefined) => {
      if (ref === undefined) return undefined;
      const value = await this.#options.directory.secret(namespace, ref);
      if (value === undefined) {
        throw new SyncError(
          'Configuration',
          `Secret ${ref.name} has no key ${ref.key} (or does not exist)`,
        );
      }
      return value;
    };
    const [source, destination] = await Promise.all([
      read(integration.spec.source?.credentialsRef),
      read(integration.spec.destination?.credentialsRef),
    ]);
    return { source, destination };
  }
}
