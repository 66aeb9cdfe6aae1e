/**
 * Writes core/v1 Events the way client-go's recorder does: a repeat patches `count` and
 * `lastTimestamp` of the Event already written (event-cache.ts decides), a patch that finds the
 * Event gone (its TTL expired) creates it again, and every Event names its reporter
 * (`reportingComponent`, `reportingInstance`, `source.component`). A write that fails is logged
 * and counted, never thrown: no reconcile fails for an Event.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../lib/clock.ts';
import type { Log } from '../../lib/log.ts';
import { rfc3339 } from '../../lib/time.ts';
import { apiPath, type ApiTransport, DEFAULT_API_TIMEOUT_MS } from '../../lib/kube/api.ts';
import {
  type Correlation,
  EventCache,
  type EventCacheOptions,
  type EventIdentity,
  type InvolvedObject,
} from './event-cache.ts';
import { isApiStatus } from '../../lib/kube/errors.ts';

/** The longest message written (the events.k8s.io `note` limit); longer ones are cut. */
export const MAX_EVENT_MESSAGE = 1024;

/** Default reporting controller: a qualified name, as the events API asks of it. */
export const DEFAULT_REPORTING_CONTROLLER = 'tributary.dev/operator';

/** One Event to record. */
export interface EventToRecord {
  /** Normal or Warning. */
  type: 'Normal' | 'Warning';
  /** CamelCase reason. */
  reason: string;
  /** What happened, for humans; cut to {@link MAX_EVENT_MESSAGE} characters. */
  message: string;
}

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions {
  /** The authenticated API transport. Required. */
  api: ApiTransport;
  /** Time of firstTimestamp and lastTimestamp, and of the similar-Event window. Required. */
  clock: Clock;
  /** `reportingInstance`: this replica's identity (the Lease holder identity). Required. */
  reportingInstance: string;
  /** `reportingComponent`. Default {@link DEFAULT_REPORTING_CONTROLLER}. */
  reportingController?: string;
  /** `source.component`. Default `tributary-operator`. */
  component?: string;
  /** Timeout of each write, in ms. Default {@link DEFAULT_API_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Called with the Event's reason when a write fails (the failures counter). Default: none. */
  onWriteFailure?: (reason: string) => void;
  /** Sizes and windows of the correlation caches. Default client-go's. */
  cache?: EventCacheOptions;
}

/** What a write runs with: the caller's logger and abort signal. */
export interface RecordContext {
  log: Log;
  signal?: AbortSignal | undefined;
}

/** Records Events, aggregated; one instance per process so repeats are recognised. */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #cache: EventCache;

  /** Stores options; nothing is sent until {@link record}. */
  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#cache = new EventCache(options.cache);
  }

  /** Forgets the repeats counted for a deleted object (event-cache.ts). */
  forgetObject(kind: string, namespace: string, name: string): void {
    this.#cache.forgetObject(kind, namespace, name);
  }

  /** Writes one occurrence of `event` on `object`; true when the API server took it. */
  async record(object: InvolvedObject, event: EventToRecord, ctx: RecordContext): Promise<boolean> {
    const now = this.#o.clock.now();
    const identity = {
      involvedObject: object,
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, MAX_EVENT_MESSAGE),
      component: this.#o.component ?? 'tributary-operator',
      reportingController: this.#o.reportingController ?? DEFAULT_REPORTING_CONTROLLER,
      reportingInstance: this.#o.reportingInstance,
    };
    const occurrence = this.#cache.correlate(identity, now, () => eventName(object.name));
    const write = {
      ...identity,
      ...occurrence,
      message: occurrence.message.slice(0, MAX_EVENT_MESSAGE),
      lastTimestamp: rfc3339(new Date(now)),
    };
    try {
      if (occurrence.repeat && (await this.#patch(object, write, ctx))) return true;
      await this.#create(object, write, ctx);
      return true;
    } catch (error) {
      this.#o.onWriteFailure?.(event.reason);
      ctx.log.warn({ err: error, reason: event.reason }, 'could not record Event');
      return false;
    }
  }

  /** Patches count, lastTimestamp and message of a repeat; false when the Event is gone. */
  async #patch(object: InvolvedObject, write: Write, ctx: RecordContext): Promise<boolean> {
    try {
      await this.#send(ctx, {
        method: 'PATCH',
        path: apiPath`/api/v1/namespaces/${object.namespace}/events/${write.name}`,
        contentType: 'application/merge-patch+json',
        body: { count: write.count, lastTimestamp: write.lastTimestamp, message: write.message },
      });
      return true;
    } catch (error) {
      // The Event expired (the API server's event TTL, 1 h by default): write it again.
      if (isApiStatus(error, 404)) return false;
      throw error;
    }
  }

  /** Creates the Event object (a first occurrence, or a repeat whose Event expired). */
  async #create(object: InvolvedObject, write: Write, ctx: RecordContext): Promise<void> {
    await this.#send(ctx, {
      method: 'POST',
      path: apiPath`/api/v1/namespaces/${object.namespace}/events`,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: write.name, namespace: object.namespace },
        involvedObject: object,
        type: write.type,
        reason: write.reason,
        message: write.message,
        source: { component: write.component },
        reportingComponent: write.reportingController,
        reportingInstance: write.reportingInstance,
        firstTimestamp: rfc3339(new Date(write.firstTimestamp)),
        lastTimestamp: write.lastTimestamp,
        count: write.count,
      },
    });
  }

  #send(ctx: RecordContext, request: Parameters<ApiTransport['request']>[0]): Promise<unknown> {
    return this.#o.api.request({
      timeoutMs: this.#o.timeoutMs ?? DEFAULT_API_TIMEOUT_MS,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...request,
    });
  }
}

/** One write: the Event's identity and this occurrence (message already cut). */
type Write = EventIdentity & Correlation & { lastTimestamp: string };

/**
 * A new Event name: the object's, plus a random suffix (names stay unique across replicas),
 * within the 253 characters of a DNS subdomain.
 */
function eventName(objectName: string): string {
  const base = objectName.slice(0, 236).replace(/[.-]+$/, '');
  return `${base}.${randomBytes(8).toString('hex')}`;
}
