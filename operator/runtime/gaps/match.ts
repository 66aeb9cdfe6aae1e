/**
 * Asks the intake stores which records a webhook delivery carried: `POST {intake}/match` with
 * `{uid, records: [{id, version}]}` (at most {@link MATCH_BATCH} per request) answers
 * `200 {matched: [ids]}`; with `deliveries: [ids]` (the Stripe events-log check) also
 * `stored: [ids]`. Every store is asked in parallel and the matched ids are united (with
 * the embedded engine each intake replica holds its own store). A store that cannot be asked
 * (refused, timed out, any answer but 200 with a list) is left out for the rest of the pass and
 * named in {@link IntakeMatcher.unavailable}; nothing here throws.
 */
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { joinURL } from '../json.ts';

/** Records per `/match` request, as the intake accepts them. */
export const MATCH_BATCH = 500;

/** Default deadline of one `/match` request, connection included, in milliseconds. */
export const MATCH_TIMEOUT_MS = 5000;

/** Longest `unavailable` text the result carries. */
const MAX_UNAVAILABLE_CHARS = 512;

/** A record the pass read, at the version it read. */
export interface ReadRecord {
  id: string;
  version: string;
}

/** Options of {@link IntakeMatcher}. */
export interface IntakeMatcherOptions {
  /** Base URLs of the intake stores (RunInput.webhook.intake). */
  intake: readonly string[];
  /** The Integration's metadata.uid. */
  uid: string;
  /** The run's dispatcher. */
  dispatcher: Dispatcher;
  /** Deadline of one request, in milliseconds. Default {@link MATCH_TIMEOUT_MS}. */
  timeoutMs?: number | undefined;
  /** The run's signal (SIGTERM): a request in flight is abandoned. */
  signal?: AbortSignal | undefined;
}

const MatchAnswer = z.object({ matched: z.array(z.string()) });
const StoredAnswer = z.object({ stored: z.array(z.string()) });

/** Asks every intake store about the records of a page. */
export class IntakeMatcher {
  readonly #options: IntakeMatcherOptions;
  /** Stores that could not be asked, with why: skipped from then on. */
  readonly #down = new Map<string, string>();

  /** Stores options; no I/O. */
  constructor(options: IntakeMatcherOptions) {
    this.#options = options;
  }

  /** The ids of `records` some store has an applied version for that is not older. */
  match(records: readonly ReadRecord[]): Promise<Set<string>> {
    return this.#askAll(
      records,
      (batch) => ({ records: batch }),
      (body) => {
        const answer = MatchAnswer.safeParse(body);
        return answer.success ? answer.data.matched : 'answered without a matched list';
      },
    );
  }

  /** The delivery ids of `deliveries` (Stripe event ids) some store holds. */
  stored(deliveries: readonly string[]): Promise<Set<string>> {
    return this.#askAll(
      deliveries,
      (batch) => ({ records: [], deliveries: batch }),
      (body) => {
        const answer = StoredAnswer.safeParse(body);
        return answer.success ? answer.data.stored : 'answered without a stored list';
      },
    );
  }

  /** Asks every store still up about `items`, in batches; the union of the ids they answer. */
  async #askAll<T>(
    items: readonly T[],
    body: (batch: readonly T[]) => object,
    read: (answer: unknown) => string[] | string,
  ): Promise<Set<string>> {
    const found = new Set<string>();
    if (items.length === 0) return found;
    const up = this.#options.intake.filter((url) => !this.#down.has(url));
    await Promise.all(
      up.map(async (url) => {
        for (let at = 0; at < items.length; at += MATCH_BATCH) {
          const answer = await this.#ask(url, body(items.slice(at, at + MATCH_BATCH)), read);
          if (typeof answer === 'string') {
            this.#down.set(url, answer);
            return;
          }
          for (const id of answer) found.add(id);
        }
      }),
    );
    return found;
  }

  /** Which stores could not be asked and why, within 512 characters; undefined when all could. */
  unavailable(): string | undefined {
    if (this.#down.size === 0) return undefined;
    const text = [...this.#down].map(([url, why]) => `${url}: ${why}`).join('; ');
    return text.length <= MAX_UNAVAILABLE_CHARS
      ? text
      : `${text.slice(0, MAX_UNAVAILABLE_CHARS - 1)}…`;
  }

  /** One request to one store: the matched ids, or why the store cannot answer. */
  async #ask(
    url: string,
    payload: object,
    read: (answer: unknown) => string[] | string,
  ): Promise<string[] | string> {
    const { dispatcher, uid, signal } = this.#options;
    const timeoutMs = this.#options.timeoutMs ?? MATCH_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const res = await request(joinURL(url, '/match'), {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uid, ...payload }),
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) return `answered ${res.statusCode}`;
      return read(parseJSON(text));
    } catch (error) {
      if (deadline.aborted) return `no answer within ${timeoutMs} ms`;
      return signal?.aborted === true ? 'interrupted' : describe(error);
    }
  }
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A transport failure by its code only (never a message that could carry anything else). */
function describe(error: unknown): string {
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code;
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  const known = typeof code === 'string' ? code : typeof cause === 'string' ? cause : undefined;
  if (known === 'ECONNREFUSED') return 'connection refused';
  return known === undefined ? 'request failed' : `request failed (${known})`;
}
