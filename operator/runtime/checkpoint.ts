/**
 * The checkpoint a sync hands back to the operator and receives on the next run: JSON
 * `{v:1, page?, since?, mark?, cut?, carry?}` of at most 1024 characters.
 * - `page`: the provider's opaque resume cursor inside the current pass; the next run starts
 *   after that page (rework of at most one page).
 * - `since`: the high-water mark of `updatedField` over completed passes; the next pass reads
 *   only records updated since, where the provider supports it (incremental).
 * - `carry`: with `page`, the counts of the pages before it, so a resumed run reports the whole
 *   pass. (Quarantine samples, `q`, are no longer written and are ignored: the attempt that
 *   committed those pages reported them, and the operator holds them.) With gap detection,
 *   `w`: changed and missed of those pages.
 * - `mark`: with a webhook, the judge mark of gap detection (runtime/gaps/window.ts): records
 *   updated after it have not been judged yet. `cut`, with `page`: the upper end of the window
 *   of the pass in progress, so a resumed attempt judges the same window.
 * Older checkpoints (without `mark`, `cut` or `w`) decode as before.
 */

/** Longest checkpoint string the result contract carries. */
export const MAX_CHECKPOINT_CHARS = 1024;

/** Counts and quarantine samples of the committed pages of a pass. */
export interface Carry {
  /** read, written, unchanged, quarantined, failed. */
  s: [number, number, number, number, number];
  /** Quarantine samples: id and reason. */
  q?: { i: string; r: string }[];
  /** Gap detection: records judged and missed on those pages. */
  w?: [number, number];
}

/** A decoded checkpoint. */
export interface Checkpoint {
  /** Resume cursor of the current pass; absent at a pass boundary. */
  page?: string | undefined;
  /** Incremental lower bound for the pass (high-water mark of completed passes). */
  since?: string | undefined;
  /** What the pages before `page` counted; only with `page`. */
  carry?: Carry | undefined;
  /** Gap detection's judge mark of completed passes (ISO 8601). */
  mark?: string | undefined;
  /** Gap detection's cut of the pass in progress; only with `page`. */
  cut?: string | undefined;
}

/**
 * Encodes a checkpoint within {@link MAX_CHECKPOINT_CHARS}: a cursor too long to fit is dropped
 * first (the pass restarts: more rework, never loss), then `since` (a full pass).
 */
export function encodeCheckpoint(checkpoint: Checkpoint): string {
  const { page, since, carry, mark } = checkpoint;
  const cut = page === undefined ? undefined : checkpoint.cut;
  const withCarry = page === undefined || carry === undefined ? [] : carryCandidates(carry);
  // A dropped cursor drops the cut with it: the restarted pass takes a new window from `mark`.
  const candidates = [
    ...withCarry.map((c) => ({ v: 1, page, since, mark, cut, carry: c })),
    { v: 1, page, since, mark, cut },
    { v: 1, since, mark },
    { v: 1, mark },
    { v: 1 },
  ];
  for (const candidate of candidates) {
    const text = JSON.stringify(candidate);
    if (text.length <= MAX_CHECKPOINT_CHARS) return text;
  }
  return '{"v":1}';
}

/** The carry with fewer and fewer samples, shortest reasons first; counts always survive. */
function carryCandidates(carry: Carry): Carry[] {
  const samples = carry.q ?? [];
  const w = carry.w === undefined ? {} : { w: carry.w };
  const out: Carry[] = [];
  for (let n = samples.length; n > 0; n--) {
    const q = samples.slice(0, n).map(({ i, r }) => ({ i, r: r.slice(0, 120) }));
    out.push({ s: carry.s, q, ...w });
  }
  out.push({ s: carry.s, ...w });
  return out;
}

/** Decodes a checkpoint; absent means a first run; anything unreadable is a problem to report. */
export function decodeCheckpoint(
  text: string | undefined,
): { ok: true; checkpoint: Checkpoint } | { ok: false; problem: string } {
  if (text === undefined || text === '') return { ok: true, checkpoint: {} };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'checkpoint is not JSON' };
  }
  const { v, page, since, carry, mark, cut } = (json ?? {}) as Record<string, unknown>;
  if (v !== 1) return { ok: false, problem: 'checkpoint has an unknown version' };
  if (![page, since, mark, cut].every((f) => f === undefined || typeof f === 'string')) {
    return { ok: false, problem: 'checkpoint fields are not strings' };
  }
  const [p, s, m, c] = [page, since, mark, cut] as (string | undefined)[];
  const inPass = p === undefined ? {} : { carry: readCarry(carry), ...(c ? { cut: c } : {}) };
  return {
    ok: true,
    checkpoint: { page: p, since: s, ...(m === undefined ? {} : { mark: m }), ...inPass },
  };
}

/** A carry as written by {@link encodeCheckpoint}, or undefined when absent or malformed. */
function readCarry(value: unknown): Carry | undefined {
  const carry = value as Partial<Carry> | undefined;
  const counts: unknown = carry?.s;
  if (!Array.isArray(counts) || counts.length !== 5) return undefined;
  if (!counts.every((n) => Number.isInteger(n) && (n as number) >= 0)) return undefined;
  const samples = Array.isArray(carry?.q)
    ? carry.q.filter((q) => typeof q.i === 'string' && typeof q.r === 'string')
    : [];
  const w = readPair(carry?.w);
  return {
    s: counts as Carry['s'],
    ...(samples.length > 0 ? { q: samples } : {}),
    ...(w === undefined ? {} : { w }),
  };
}

/** Two non-negative integers, or undefined. */
function readPair(value: unknown): [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  return value.every((n) => Number.isInteger(n) && (n as number) >= 0)
    ? (value as [number, number])
    : undefined;
}

/** The later of a high-water mark and a record's updated value: dates by time, numbers by value. */
export function laterMark(current: string | undefined, value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return current;
  const candidate = String(value);
  if (current === undefined) return candidate;
  const order = (text: string) => (/^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text));
  const [a, b] = [order(current), order(candidate)];
  if (Number.isFinite(a) && Number.isFinite(b)) return b > a ? candidate : current;
  return candidate > current ? candidate : current;
}
