/**
 * The operator's view of the webhook intake: every 15 s it finds the intake replicas (the ready
 * pods labelled `app.kubernetes.io/component=intake` in its own namespace, at their `metrics`
 * port — or the URLs it was given), reads each one's `GET /stats`, counts each store once
 * (replicas sharing a JetStream stream answer the same `store`) and sums the figures per
 * Integration. An Integration whose figures changed is enqueued, so its status follows; the
 * endpoints are handed to sync runs for gap detection. A replica that cannot be read makes the
 * figures partial, and says so, rather than silently smaller.
 */
import { fetch } from 'undici';
import { IntakeStats, type IntakeIntegrationStats } from '../api/index.ts';
import { sleep, type Clock } from '../lib/clock.ts';
import type { ApiTransport } from '../lib/kube/api.ts';
import { apiPath } from '../lib/kube/api.ts';
import type { Log } from '../lib/log.ts';
import { aggregateStats, type IntakeObservation } from './integration/webhook.ts';

/** The labels of the intake's pods (manifests/src). */
export const INTAKE_POD_SELECTOR =
  'app.kubernetes.io/name=tributary,app.kubernetes.io/component=intake';

/** Options of {@link IntakeStatsPoller}. */
export interface IntakeStatsOptions {
  api: ApiTransport;
  clock: Clock;
  log: Log;
  /** Where the intake pods run (the operator's namespace); undefined: only `urls`. */
  namespace: string | undefined;
  /** Fixed intake base URLs (out-of-cluster runs); when set, no pod is listed. */
  urls?: readonly string[] | undefined;
  /** Poll period in ms. Default 15 s. */
  intervalMs?: number | undefined;
  /** Called with the `namespace/name` keys whose figures changed. */
  onChange: (keys: string[]) => void;
}

/** A pod as listed (only what is read). */
interface PodItem {
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
  spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] };
}

/** Polls the intake replicas' figures. */
export class IntakeStatsPoller {
  readonly #options: IntakeStatsOptions;
  #endpoints: string[] = [];
  #byUID = new Map<string, IntakeObservation>();
  #fingerprints = new Map<string, string>();

  constructor(options: IntakeStatsOptions) {
    this.#options = options;
  }

  /** The intake base URLs found by the last poll. */
  endpoints(): string[] {
    return [...this.#endpoints];
  }

  /** The summed figures of one Integration, undefined when no intake has any yet. */
  observation(uid: string): IntakeObservation | undefined {
    return this.#byUID.get(uid);
  }

  /** Polls until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.poll().catch((error: unknown) => {
        this.#options.log.warn({ err: String(error) }, 'cannot read the intake figures');
      });
      await sleep(this.#options.clock, this.#options.intervalMs ?? 15_000, signal).catch(
        () => undefined,
      );
    }
  }

  /** One poll: find the replicas, read them, and enqueue what changed. */
  async poll(): Promise<void> {
    const endpoints = await this.#discover();
    this.#endpoints = endpoints;
    const answers = await Promise.all(endpoints.map((url) => readStats(url)));
    const now = this.#options.clock.now();
    this.#byUID = aggregateStats(answers, now);
    const changed: string[] = [];
    const seen = new Set<string>();
    for (const [uid, observation] of this.#byUID) {
      seen.add(uid);
      const fingerprint = JSON.stringify({ ...observation, observedTime: undefined });
      if (this.#fingerprints.get(uid) !== fingerprint)
        changed.push(`${observation.namespace}/${observation.name}`);
      this.#fingerprints.set(uid, fingerprint);
    }
    for (const uid of this.#fingerprints.keys()) if (!seen.has(uid)) this.#fingerprints.delete(uid);
    if (changed.length > 0) this.#options.onChange(changed);
  }

  /** The intake base URLs: the given ones, or the ready intake pods' metrics ports. */
  async #discover(): Promise<string[]> {
    const { urls, namespace, api } = this.#options;
    if (urls !== undefined && urls.length > 0) return [...urls];
    if (namespace === undefined) return [];
    const list = await api.request<{ items?: PodItem[] }>({
      path: apiPath`/api/v1/namespaces/${namespace}/pods`,
      query: { labelSelector: INTAKE_POD_SELECTOR },
    });
    return (list.items ?? []).flatMap((pod) => {
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const port = pod.spec?.containers
        ?.flatMap((c) => c.ports ?? [])
        .find((p) => p.name === 'metrics');
      const ip = pod.status?.podIP;
      return ready === true && ip !== undefined && port !== undefined
        ? [`http://${ip}:${port.containerPort}`]
        : [];
    });
  }
}

/** What one replica answered: its stats, or why it could not be read. */
export type StatsAnswer = { url: string; stats: IntakeStats } | { url: string; error: string };

/** Reads one replica's `/stats` (5 s timeout); never throws. */
async function readStats(url: string): Promise<StatsAnswer> {
  try {
    const response = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return { url, error: `GET /stats answered ${response.status}` };
    const parsed = IntakeStats.safeParse(await response.json());
    return parsed.success
      ? { url, stats: parsed.data }
      : { url, error: 'GET /stats: not an intake-stats/v1 document' };
  } catch (error) {
    return { url, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Re-exported for tests of the aggregation. */
export type { IntakeIntegrationStats };
