/**
 * Gap detection from a source's events log (Stripe: no update time on the objects, but
 * `/v1/events`): once per pass, after its pages, the events created in the judge window
 * `(mark, cut]` (window.ts, the same window as record judging) of the synced object type (and of
 * spec.webhook.eventTypes, else of the endpoint's enabled_events) are looked up in every intake
 * store by event id (`POST /match` with `deliveries`). An event no store holds is missed. The pass
 * has written every object anyway (Stripe passes are full), so this only counts; samples are
 * event ids (what the provider's dashboard lists delivery attempts by). Also reports whether the
 * sender endpoint of the route is disabled. Never fails the pass: a log that cannot be read
 * leaves the mark where it was (the next pass judges the longer window) and reports nothing.
 */
import type { Dispatcher } from 'undici';
import { webhookRoute } from '../../api/index.ts';
import type { RunInput } from '../../api/run-input.ts';
import type { Log } from '../../lib/log.ts';
import { toSyncError } from '../errors.ts';
import type { EventLog, SenderEndpoint, SourceEvent } from '../providers/types.ts';
import type { ResultBody } from '../result.ts';
import type { GapStart } from './detector.ts';
import { IntakeMatcher } from './match.ts';
import { formatMark, inWindow, passWindow, type JudgeWindow } from './window.ts';

/** Most missed ids a result carries. */
const MAX_SAMPLES = 10;

/** Options of {@link EventLogCheck}. */
export interface EventLogCheckOptions {
  webhook: NonNullable<RunInput['webhook']>;
  integration: { namespace: string; name: string; uid: string };
  log: EventLog;
  dispatcher: Dispatcher;
  nowMs: number;
  start: GapStart;
  logger: Log;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Judges a pass's window against the events log; one `run()` per pass. */
export class EventLogCheck {
  readonly window: JudgeWindow;
  readonly #o: EventLogCheckOptions;
  readonly #matcher: IntakeMatcher;
  #report: Pick<ResultBody, 'webhook'> = {};
  #done = false;

  /** Computes the window; no I/O. */
  constructor(options: EventLogCheckOptions) {
    this.#o = options;
    const { start, webhook } = options;
    this.window = passWindow(start, options.nowMs, webhook.grace);
    this.#matcher = new IntakeMatcher({
      intake: webhook.intake,
      uid: options.integration.uid,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  }

  /** The cut of this pass (ISO 8601), for the checkpoint while the pass runs. */
  cut(): string {
    return formatMark(this.window.to);
  }

  /** The judge mark after the pass: the cut once the log was judged, else the previous mark. */
  mark(): string | undefined {
    return this.#done || !this.window.judging ? this.cut() : this.#o.start.mark;
  }

  /** Reads the endpoint and the log, asks the intakes. Throws only when interrupted. */
  async run(): Promise<void> {
    if (!this.window.judging) return;
    const endpoint = await this.#endpoint();
    try {
      const events = await this.#events(endpoint);
      const stored = await this.#matcher.stored(events.map((e) => e.id));
      const missed = events.filter((e) => !stored.has(e.id)).map((e) => e.id);
      const unavailable = this.#matcher.unavailable();
      this.#report = {
        webhook: {
          changed: events.length,
          missed: missed.length,
          ...(missed.length > 0 ? { missedSamples: missed.slice(0, MAX_SAMPLES) } : {}),
          ...(unavailable === undefined ? {} : { unavailable }),
          ...(endpoint === undefined ? {} : { endpointDisabled: endpoint.status === 'disabled' }),
        },
      };
      this.#done = true;
    } catch (error) {
      const failure = toSyncError(error);
      if (failure.code === 'Interrupted') throw failure;
      this.#o.logger.warn({ err: failure.message }, 'events log not read: judged by the next pass');
    }
  }

  /** The result's `webhook` field: nothing on a first pass or when the log could not be read. */
  report(): Pick<ResultBody, 'webhook'> {
    return this.#report;
  }

  /** The sender endpoint of the route, or undefined (none found, a restricted key, a failure). */
  async #endpoint(): Promise<SenderEndpoint | undefined> {
    const { namespace, name } = this.#o.integration;
    const route = webhookRoute(namespace, name);
    try {
      const found = await this.#o.log.endpoint(route);
      if (found === undefined)
        this.#o.logger.info(
          { route },
          'no webhook endpoint status: none listed for the route, or the key may not list endpoints',
        );
      return found;
    } catch (error) {
      const failure = toSyncError(error);
      if (failure.code === 'Interrupted') throw failure;
      this.#o.logger.warn({ err: failure.message }, 'webhook endpoints not read');
      return undefined;
    }
  }

  /** The window's events of the synced object type and the judged event types. */
  async #events(endpoint: SenderEndpoint | undefined): Promise<SourceEvent[]> {
    const { from, to } = this.window;
    const types = this.#o.webhook.eventTypes ?? sentTypes(endpoint);
    const objectType = this.#o.log.objectType;
    const seen = new Set<string>();
    const kept: SourceEvent[] = [];
    const after = Math.floor((from ?? 0) / 1000);
    for await (const page of this.#o.log.events(after, Math.floor(to / 1000), types)) {
      for (const event of page) {
        if (seen.has(event.id) || !inWindow(this.window, event.created)) continue;
        if (objectType !== undefined && event.objectType !== objectType) continue;
        seen.add(event.id);
        kept.push(event);
      }
    }
    return kept;
  }
}

/** The event types an endpoint sends; undefined for every type (`*`) or an unknown endpoint. */
function sentTypes(endpoint: SenderEndpoint | undefined): string[] | undefined {
  if (endpoint === undefined || endpoint.enabledEvents.includes('*')) return undefined;
  return endpoint.enabledEvents;
}
