/**
 * The intake's view of the cluster, over the one API transport: the Integration a delivery is
 * for and the Secret values it names. Both are cached for a few seconds — a burst of deliveries
 * costs one read, and a rotated secret or an edited spec is seen within the TTL — and never
 * listed: the intake may only `get` Secrets, by the names Integrations give.
 */
import { Integration, type SecretKeyRef } from '../api/index.ts';
import type { ApiTransport } from '../lib/kube/api.ts';
import { apiPath } from '../lib/kube/api.ts';
import { isApiStatus } from '../lib/kube/errors.ts';
import type { Clock } from '../lib/clock.ts';

/** An Integration as stored. */
type IntegrationObject = Integration;

/** Options of {@link KubeDirectory}. */
export interface DirectoryOptions {
  api: ApiTransport;
  clock: Clock;
  /** How long a read is reused, in ms. Default 5000. */
  ttlMs?: number | undefined;
}

interface Entry<T> {
  value: T;
  at: number;
}

/** A Secret as the API returns it (only what is read). */
interface SecretObject {
  data?: Record<string, string>;
}

/** Integration and Secret lookups with a short TTL. */
export class KubeDirectory {
  readonly #options: DirectoryOptions;
  readonly #integrations = new Map<string, Entry<IntegrationObject | undefined>>();
  readonly #secrets = new Map<string, Entry<SecretObject | undefined>>();

  constructor(options: DirectoryOptions) {
    this.#options = options;
  }

  /** The Integration, or undefined when there is none (404). Throws ApiError otherwise. */
  async integration(namespace: string, name: string): Promise<IntegrationObject | undefined> {
    return this.#cached(this.#integrations, `${namespace}/${name}`, async () => {
      const path = apiPath`/apis/tributary.dev/v1alpha1/namespaces/${namespace}/integrations/${name}`;
      const object = await this.#get<unknown>(path);
      if (object === undefined) return undefined;
      const parsed = Integration.safeParse(object);
      return parsed.success ? parsed.data : undefined;
    });
  }

  /** The value of one key of a Secret, or undefined when the Secret or key is absent. */
  async secret(namespace: string, ref: SecretKeyRef): Promise<string | undefined> {
    const secret = await this.#cached(this.#secrets, `${namespace}/${ref.name}`, () =>
      this.#get<SecretObject>(apiPath`/api/v1/namespaces/${namespace}/secrets/${ref.name}`),
    );
    const encoded = secret?.data?.[ref.key];
    return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
  }

  /** Forgets what was read (tests; a Secret known to have changed). */
  invalidate(): void {
    this.#integrations.clear();
    this.#secrets.clear();
  }

  async #get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.#options.api.request<T>({ path, timeoutMs: 10_000 });
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async #cached<T>(map: Map<string, Entry<T>>, key: string, read: () => Promise<T>): Promise<T> {
    const now = this.#options.clock.now();
    const entry = map.get(key);
    if (entry !== undefined && now - entry.at < (this.#options.ttlMs ?? 5000)) return entry.value;
    const value = await read();
    map.set(key, { value, at: now });
    if (map.size > 10_000) map.delete(map.keys().next().value ?? '');
    return value;
  }
}
