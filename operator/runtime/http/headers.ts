/**
 * Parsing of the response headers the runtime acts on: `Retry-After`, `Link`, and the
 * deprecation signals (`Deprecation` RFC 9745, `Sunset` RFC 8594, `Link; rel="deprecation"`,
 * Shopify's `X-Shopify-API-Deprecated-Reason`). Pure functions of header values.
 */

/** Reads one response header by lower-case name; repeated headers are joined with `, `. */
export type HeaderLookup = (name: string) => string | undefined;

/**
 * Milliseconds to wait according to a `Retry-After` value: delay-seconds or an HTTP date
 * (relative to `nowMs`, ms epoch). Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/** One link of a `Link` header (RFC 8288). */
export interface WebLink {
  /** The target, as written (may be relative). */
  url: string;
  /** The relation types, lower-case. */
  rels: string[];
}

/** Parses a `Link` header into its links; malformed parts are skipped. */
export function parseLinks(value: string | undefined): WebLink[] {
  if (value === undefined) return [];
  const links: WebLink[] = [];
  for (const match of value.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
    const params = match[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    links.push({ url: match[1] ?? '', rels });
  }
  return links;
}

/** The target of the first link with relation `rel`, or undefined. */
export function linkWithRel(value: string | undefined, rel: string): string | undefined {
  return parseLinks(value).find((link) => link.rels.includes(rel))?.url;
}

/** A provider's announcement that something we call is deprecated or will go away. */
export interface DeprecationNotice {
  /** What is deprecated and what the provider said, without secrets or query strings. */
  message: string;
  /** When it stops working (RFC 3339), if announced. */
  sunset?: string | undefined;
}

/** An HTTP date or RFC 9745 `@epoch` as RFC 3339; undefined when neither. */
function parseDate(text: string): string | undefined {
  const epoch = /^@(-?\d+)$/.exec(text.trim());
  const ms = epoch ? Number(epoch[1]) * 1000 : Date.parse(text.trim());
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : undefined;
}

/**
 * The deprecation notice carried by a response to `what` (e.g. `GET /v1/customers`), if any:
 * a `Deprecation` header (`@<epoch>`, an HTTP date, or `true`), a `Sunset` date, a
 * `rel="deprecation"` link, or Shopify's deprecated-reason header.
 */
export function parseDeprecation(
  header: HeaderLookup,
  what: string,
): DeprecationNotice | undefined {
  const deprecation = header('deprecation')?.trim();
  const sunsetValue = header('sunset');
  const shopifyReason = header('x-shopify-api-deprecated-reason')?.trim();
  const link = linkWithRel(header('link'), 'deprecation');
  if (!deprecation && !sunsetValue && !shopifyReason && link === undefined) return undefined;
  const since = deprecation && deprecation !== 'true' ? parseDate(deprecation) : undefined;
  const sunset = sunsetValue === undefined ? undefined : parseDate(sunsetValue);
  const parts = [
    since === undefined ? `${what} is deprecated` : `${what} is deprecated since ${since}`,
  ];
  if (sunset !== undefined) parts.push(`sunset ${sunset}`);
  if (shopifyReason) parts.push(`Shopify: ${shopifyReason}`);
  if (link !== undefined) parts.push(`see ${link}`);
  return { message: parts.join('; ').slice(0, 1024), ...(sunset ? { sunset } : {}) };
}
