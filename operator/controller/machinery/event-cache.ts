/**
 * The memory of an Event recorder, after client-go's EventCorrelator (tools/record): a repeat of
 * an Event (same involved object, type, reason, message, source and reporter) becomes a new
 * count on the Event already written; more than `maxSimilar` different messages of one reason
 * within `similarWindowMs` are combined into one Event whose message says so. Bounded by LRU
 * caches; time is passed in. No I/O.
 */

/** The object an Event is about (core/v1 ObjectReference, the fields the key uses). */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string | undefined;
}

/** The fields that make an Event the same Event. */
export interface EventIdentity {
  involvedObject: InvolvedObject;
  /** Normal or Warning. */
  type: string;
  /** CamelCase reason. */
  reason: string;
  /** The message, as it will be written. */
  message: string;
  /** source.component. */
  component: string;
  /** reportingComponent (core/v1's JSON name of reportingController). */
  reportingController: string;
  /** reportingInstance. */
  reportingInstance: string;
}

/** What to write for one occurrence of an Event. */
export interface Correlation {
  /** The Event object's name: the existing one on a repeat, a new one otherwise. */
  name: string;
  /** The count to write: 1 for a new Event, one more than last time for a repeat. */
  count: number;
  /** firstTimestamp to write (ms epoch): the first occurrence's. */
  firstTimestamp: number;
  /** The message to write: the Event's, or prefixed as combined from similar Events. */
  message: string;
  /** True when an Event of `name` was written before: patch it (create it again if it 404s). */
  repeat: boolean;
}

/** Options of {@link EventCache}; the defaults are client-go's. */
export interface EventCacheOptions {
  /** Entries of each LRU cache. Default 4096. */
  size?: number;
  /** Different messages of one reason within the window before they are combined. Default 10. */
  maxSimilar?: number;
  /** The window of {@link maxSimilar}, in ms since the last similar Event. Default 600 000 (10 min). */
  similarWindowMs?: number;
}

/** The prefix of a message combined from similar Events (client-go's wording). */
export const COMBINED_PREFIX = '(combined from similar events): ';

interface Observation {
  name: string;
  count: number;
  firstTimestamp: number;
}

interface SimilarGroup {
  messages: Set<string>;
  lastSeen: number;
}

/** The correlator's state: which Events were written, and how many similar ones were seen. */
export class EventCache {
  readonly #observed: Lru<Observation>;
  readonly #similar: Lru<SimilarGroup>;
  readonly #maxSimilar: number;
  readonly #windowMs: number;

  /** Empty caches; nothing is remembered until {@link correlate}. */
  constructor(options: EventCacheOptions = {}) {
    const size = options.size ?? 4096;
    this.#observed = new Lru(size);
    this.#similar = new Lru(size);
    this.#maxSimilar = options.maxSimilar ?? 10;
    this.#windowMs = options.similarWindowMs ?? 600_000;
  }

  /**
   * Records one occurrence of `event` at `now` (ms epoch) and says what to write; `newName` names
   * an Event seen for the first time. The occurrence counts even if the write then fails: the
   * next repeat patches, and creates again when the patch finds nothing.
   */
  correlate(event: EventIdentity, now: number, newName: () => string): Correlation {
    const { key, message } = this.#aggregate(event, now);
    const last = this.#observed.get(key);
    const observation: Observation = last
      ? { name: last.name, count: last.count + 1, firstTimestamp: last.firstTimestamp }
      : { name: newName(), count: 1, firstTimestamp: now };
    this.#observed.set(key, observation);
    return { ...observation, message, repeat: last !== undefined };
  }

  /**
   * Drops everything remembered of the object `kind` `namespace/name` (it was deleted): without
   * this, churn fills the caches to their bound with objects that are gone.
   */
  forgetObject(kind: string, namespace: string, name: string): void {
    const about = (key: string) => isAbout(key, kind, namespace, name);
    this.#observed.deleteWhere(about);
    this.#similar.deleteWhere(about);
  }

  /** The key an Event is counted under, and its message: combined once too many are similar. */
  #aggregate(event: EventIdentity, now: number): { key: string; message: string } {
    const groupKey = similarKey(event);
    let group = this.#similar.get(groupKey);
    if (group === undefined || now - group.lastSeen > this.#windowMs) {
      group = { messages: new Set(), lastSeen: now };
    }
    group.messages.add(event.message);
    group.lastSeen = now;
    this.#similar.set(groupKey, group);
    if (group.messages.size < this.#maxSimilar) {
      return { key: eventKey(event), message: event.message };
    }
    // Keep the set at its bound: the group stays combined while messages keep varying.
    group.messages.delete(event.message);
    return { key: groupKey, message: `${COMBINED_PREFIX}${event.message}` };
  }
}

/** True when `key` (an {@link eventKey} or {@link similarKey}) is about the object named. */
function isAbout(key: string, kind: string, namespace: string, name: string): boolean {
  const inSimilarKey = JSON.stringify([kind, namespace, name]).slice(1, -1);
  // An eventKey holds its similarKey as a JSON string: the same text, escaped once more.
  const inEventKey = JSON.stringify(inSimilarKey).slice(1, -1);
  return key.includes(inSimilarKey) || key.includes(inEventKey);
}

/** The identity of an Event (client-go's getEventKey, plus the reporter). */
export function eventKey(event: EventIdentity): string {
  return JSON.stringify([similarKey(event), event.message]);
}

/** The identity of a group of similar Events: all but the message (EventAggregatorByReasonFunc). */
export function similarKey(event: EventIdentity): string {
  const o = event.involvedObject;
  return JSON.stringify([
    event.component,
    o.apiVersion,
    o.kind,
    o.namespace,
    o.name,
    o.uid ?? '',
    event.type,
    event.reason,
    event.reportingController,
    event.reportingInstance,
  ]);
}

/** A Map bounded to `size` entries that forgets the least recently used first. */
export class Lru<V> {
  readonly #map = new Map<string, V>();
  readonly #size: number;

  /** An empty cache of at most `size` (≥ 1) entries. */
  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  /** The value of `key`, now the most recently used; undefined when absent. */
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** Sets `key` as the most recently used, forgetting the least recently used beyond the size. */
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#size) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }

  /** Deletes every entry whose key passes `test`. */
  deleteWhere(test: (key: string) => boolean): void {
    for (const key of [...this.#map.keys()]) if (test(key)) this.#map.delete(key);
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#map.size;
  }
}
