/**
 * RFC 8288 `Link` headers as the simulators write them (`<url>; rel="next"`) and a small parser
 * for tests that walk them.
 */

/** One link of a `Link` header. */
export interface WebLink {
  url: string;
  rel: string;
  /** Other parameters, e.g. `type`. */
  params: Record<string, string>;
}

/** Formats links as one `Link` header value; undefined when there are none. */
export function formatLinks(links: readonly { url: string; rel: string }[]): string | undefined {
  if (links.length === 0) return undefined;
  return links.map(({ url, rel }) => `<${url}>; rel="${rel}"`).join(', ');
}

/** Parses a `Link` header value (quoted or bare parameters); malformed parts are skipped. */
export function parseLinks(header: string | null | undefined): WebLink[] {
  if (header === null || header === undefined) return [];
  const links: WebLink[] = [];
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params: Record<string, string> = {};
    for (const param of (match[2] ?? '').split(';').slice(1)) {
      const [name, ...rest] = param.split('=');
      if (name === undefined || rest.length === 0) continue;
      params[name.trim().toLowerCase()] = rest
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1');
    }
    const { rel = '', ...others } = params;
    for (const one of rel.split(/\s+/).filter(Boolean))
      links.push({ url: match[1] ?? '', rel: one, params: others });
  }
  return links;
}

/** The URL of the first link with `rel`, if any. */
export function linkWithRel(header: string | null | undefined, rel: string): string | undefined {
  return parseLinks(header).find((link) => link.rel === rel)?.url;
}
