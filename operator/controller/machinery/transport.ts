/**
 * The list and watch HTTP calls of an informer, behind a narrow port so the informer loop is
 * tested with a fake. {@link KubeListWatch} talks to a real API server with undici `fetch` and
 * kubeconfig credentials, imposes no client-side timeout of its own and surfaces every failure.
 */
import {
  HttpMethod,
  type KubeConfig,
  type KubernetesObject,
  RequestContext,
} from '@kubernetes/client-node';
import { fetch } from 'undici';
import { ApiError } from './errors.ts';

/** One page of a list call. */
export interface ListPage<T> {
  /** The objects of this page. */
  items: T[];
  /** The list's resourceVersion: where a watch resumes. */
  resourceVersion: string;
  /** Token of the next page; absent on the last page. */
  continueToken?: string;
}

/** Query of a list call. */
export interface ListParams {
  /** Page size (objects). Absent: everything at once. */
  limit?: number;
  /** Continue token from the previous page. */
  continueToken?: string;
  /** Label selector, e.g. `app=x`. */
  labelSelector?: string;
  /** Field selector, e.g. `metadata.name=x`. */
  fieldSelector?: string;
}

/** Query of a watch call. */
export interface WatchParams {
  /** Resume after this resourceVersion. */
  resourceVersion: string;
  /** Server-side timeout of the watch, in seconds. */
  timeoutSeconds: number;
  /** Label selector. */
  labelSelector?: string;
  /** Field selector. */
  fieldSelector?: string;
}

/** Minimal Kubernetes Status, as sent in ERROR watch events and error responses. */
export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
}

/** A decoded watch event. */
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: { metadata?: { resourceVersion?: string } } }
  | { type: 'ERROR'; object: ApiStatus };

/** The port an informer lists and watches through. */
export interface ListWatchTransport<T> {
  /** Lists one page; throws {@link ApiError} on an HTTP error status. */
  list(params: ListParams, signal: AbortSignal): Promise<ListPage<T>>;
  /**
   * Opens a watch (bookmarks on); yields events until the server ends it, which ends iteration.
   * Throws {@link ApiError} on an HTTP error status; breaking out of the loop closes the stream.
   */
  watch(params: WatchParams, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

/** Options of {@link KubeListWatch}. */
export interface KubeListWatchOptions {
  /** Credentials and server of the current context. Required. */
  kubeConfig: KubeConfig;
  /** Collection path, e.g. `/api/v1/namespaces/x/secrets`. Required. */
  path: string;
}

/** A {@link ListWatchTransport} over HTTP to the kubeconfig's current cluster. */
export class KubeListWatch<T extends KubernetesObject> implements ListWatchTransport<T> {
  readonly #options: KubeListWatchOptions;

  /** Stores options; credentials are read per request (tokens may rotate). */
  constructor(options: KubeListWatchOptions) {
    this.#options = options;
  }

  /** Lists one page of the collection. */
  async list(params: ListParams, signal: AbortSignal): Promise<ListPage<T>> {
    const query: Record<string, string | undefined> = {
      limit: params.limit?.toString(),
      continue: params.continueToken,
      labelSelector: params.labelSelector,
      fieldSelector: params.fieldSelector,
    };
    const response = await this.#request(query, signal);
    const body = (await response.json()) as {
      apiVersion?: string;
      kind?: string;
      metadata?: { resourceVersion?: string; continue?: string };
      items?: T[];
    };
    const kind = body.kind?.replace(/List$/, '');
    // List items omit apiVersion and kind; restore them so cached objects are self-describing.
    const items = (body.items ?? []).map((item) => ({
      apiVersion: body.apiVersion,
      kind,
      ...item,
    }));
    const continueToken = body.metadata?.continue;
    return {
      items,
      resourceVersion: body.metadata?.resourceVersion ?? '',
      ...(continueToken !== undefined && continueToken !== '' ? { continueToken } : {}),
    };
  }

  /** Streams the watch as newline-delimited JSON; a malformed line throws (never skipped silently). */
  async *watch(params: WatchParams, signal: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const query: Record<string, string | undefined> = {
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: params.resourceVersion,
      timeoutSeconds: params.timeoutSeconds.toString(),
      labelSelector: params.labelSelector,
      fieldSelector: params.fieldSelector,
    };
    const response = await this.#request(query, signal);
    if (response.body === null) return;
    for await (const line of ndjsonLines(response.body)) yield JSON.parse(line) as WatchEvent<T>;
  }

  async #request(query: Record<string, string | undefined>, signal: AbortSignal) {
    const cluster = this.#options.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new ApiError(0, 'kubeconfig has no current cluster');
    const url = new URL(cluster.server + this.#options.path);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, value);
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    await this.#options.kubeConfig.applySecurityAuthentication(context);
    const dispatcher = context.getDispatcher();
    const response = await fetch(url, {
      headers: { ...context.getHeaders(), Accept: 'application/json' },
      signal,
      ...(dispatcher !== undefined ? { dispatcher } : {}),
    });
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    throw statusError(response.status, text);
  }
}

/** Builds an {@link ApiError} from an HTTP status and a response body that may be a Status. */
export function statusError(status: number, body: string): ApiError {
  let parsed: ApiStatus = {};
  try {
    parsed = JSON.parse(body) as ApiStatus;
  } catch {
    // Not a Status document: keep the raw text as the message.
  }
  return new ApiError(
    status,
    parsed.message ?? (body.slice(0, 200) || `HTTP ${status}`),
    parsed.reason,
  );
}

/** Splits a byte stream into non-empty lines. */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') yield line;
      newline = buffered.indexOf('\n');
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest !== '') yield rest;
}
