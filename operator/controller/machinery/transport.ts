/**
 * The list and watch calls of an informer, behind a narrow port so the informer loop is tested
 * with a fake. {@link KubeListWatch} sends them through the operator's one {@link ApiTransport}:
 * a list has a client-side timeout, a watch its server-side `timeoutSeconds` plus a margin, so a
 * dead connection ends in an ApiError instead of hanging the informer.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ApiStatus, ApiTransport } from '../../lib/kube/api.ts';

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
export interface KubeListWatchOptions<T> {
  /** The authenticated transport. Required. */
  api: ApiTransport;
  /** Collection path, e.g. `/api/v1/namespaces/x/secrets`. Required. */
  path: string;
  /** Client-side timeout of one list page, in ms. Default 60_000 (a page of 500 large objects). */
  listTimeoutMs?: number;
  /** Client-side timeout of a watch beyond its server-side `timeoutSeconds`, in ms. Default 30_000. */
  watchMarginMs?: number;
  /** Applied to every listed and watched object before it is returned (cache-transform.ts). Default: none. */
  transform?: (object: T) => T;
}

/** A {@link ListWatchTransport} over the API transport. */
export class KubeListWatch<T extends KubernetesObject> implements ListWatchTransport<T> {
  readonly #options: KubeListWatchOptions<T>;

  /** Stores options; nothing is sent until a call. */
  constructor(options: KubeListWatchOptions<T>) {
    this.#options = options;
  }

  /** Lists one page of the collection. */
  async list(params: ListParams, signal: AbortSignal): Promise<ListPage<T>> {
    const body = await this.#options.api.request<{
      apiVersion?: string;
      kind?: string;
      metadata?: { resourceVersion?: string; continue?: string };
      items?: T[];
    }>({
      path: this.#options.path,
      query: {
        limit: params.limit?.toString(),
        continue: params.continueToken,
        labelSelector: params.labelSelector,
        fieldSelector: params.fieldSelector,
      },
      timeoutMs: this.#options.listTimeoutMs ?? 60_000,
      signal,
    });
    const kind = body.kind?.replace(/List$/, '');
    // List items omit apiVersion and kind; restore them so cached objects are self-describing.
    const transform = this.#options.transform ?? ((object: T) => object);
    const items = (body.items ?? []).map((item) =>
      transform({ apiVersion: body.apiVersion, kind, ...item }),
    );
    const continueToken = body.metadata?.continue;
    return {
      items,
      resourceVersion: body.metadata?.resourceVersion ?? '',
      ...(continueToken !== undefined && continueToken !== '' ? { continueToken } : {}),
    };
  }

  /** Streams the watch as newline-delimited JSON; a malformed line throws (never skipped silently). */
  async *watch(params: WatchParams, signal: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const body = await this.#options.api.stream({
      path: this.#options.path,
      query: {
        watch: 'true',
        allowWatchBookmarks: 'true',
        resourceVersion: params.resourceVersion,
        timeoutSeconds: params.timeoutSeconds.toString(),
        labelSelector: params.labelSelector,
        fieldSelector: params.fieldSelector,
      },
      timeoutMs: params.timeoutSeconds * 1000 + (this.#options.watchMarginMs ?? 30_000),
      signal,
    });
    const transform = this.#options.transform;
    for await (const line of ndjsonLines(body)) {
      const event = JSON.parse(line) as WatchEvent<T>;
      if (transform !== undefined && event.type !== 'BOOKMARK' && event.type !== 'ERROR')
        event.object = transform(event.object);
      yield event;
    }
  }
}

/** The label and field selectors of a list or watch, those that are set. */
export function selectors(options: { labelSelector?: string; fieldSelector?: string }): {
  labelSelector?: string;
  fieldSelector?: string;
} {
  const { labelSelector, fieldSelector } = options;
  return {
    ...(labelSelector !== undefined ? { labelSelector } : {}),
    ...(fieldSelector !== undefined ? { fieldSelector } : {}),
  };
}

/** Inserts `namespaces/<ns>/` before the resource segment of a cluster-wide collection path. */
export function namespacedPath(path: string, namespace?: string): string {
  if (namespace === undefined || namespace === '' || path.includes('/namespaces/')) return path;
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash)}/namespaces/${namespace}${path.slice(slash)}`;
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
