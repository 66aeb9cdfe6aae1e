/**
 * String formats shared by the API schemas: durations, percentages, cron, URLs and Kubernetes
 * names. Each format is a zod schema whose regex is RE2-compatible, because the same pattern is
 * emitted into the CRD and enforced by the API server at admission.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

/** One Go-style duration unit and its length in milliseconds. */
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go-style duration such as `90s`, `15m`, `1h30m` or `250ms`; no sign, no bare numbers. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/**
 * Parses a duration in the {@link DURATION_PATTERN} format into milliseconds.
 * Returns `undefined` for anything that is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    total += Number(amount) * (DURATION_UNITS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Formats milliseconds as the shortest Go-style duration (`1h30m`, `45s`, `250ms`). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('');
}

/**
 * A duration string between `min` and `max` (milliseconds). The bounds are enforced twice from
 * one definition: by zod and, in the CRD, by a CEL rule using Kubernetes' `duration()`.
 */
export function duration(bounds: { min: number; max: number }) {
  const { min, max } = bounds;
  const message = `must be between ${formatDuration(min)} and ${formatDuration(max)}`;
  return z
    .string()
    .max(32)
    .regex(new RegExp(DURATION_PATTERN), {
      error: 'must be a duration such as 90s, 15m or 1h30m (units ms, s, m, h)',
    })
    .refine(
      (text) => {
        const ms = parseDuration(text);
        return ms !== undefined && ms >= min && ms <= max;
      },
      { error: message },
    )
    .meta({
      'x-kubernetes-validations': [
        {
          rule: `duration(self) >= duration('${formatDuration(min)}') && duration(self) <= duration('${formatDuration(max)}')`,
          message,
        },
      ],
    });
}

/** A whole percentage from `0%` to `100%`. */
export const PERCENT_PATTERN = '^(100|[1-9]?[0-9])%$';

/** Parses a percentage such as `10%` into a fraction (0.1). */
export function parsePercent(text: string): number | undefined {
  return new RegExp(PERCENT_PATTERN).test(text) ? Number(text.slice(0, -1)) / 100 : undefined;
}

/** A percentage string such as `10%`. */
export const percent = () =>
  z
    .string()
    .max(4)
    .regex(new RegExp(PERCENT_PATTERN), { error: 'must be a whole percentage from 0% to 100%' });

/**
 * The shape of a 5-field cron expression (minute hour day-of-month month day-of-week): five
 * fields of digits, names, `*`, `,`, `-`, `/` and `?`. Whether the values are in range is
 * checked by {@link isValidCron}, after admission.
 */
export const CRON_PATTERN = '^\\s*[0-9A-Za-z*?,/-]+(\\s+[0-9A-Za-z*?,/-]+){4}\\s*$';

/** True when `expression` is a 5-field cron expression whose values are all in range. */
export function isValidCron(expression: string): boolean {
  if (!new RegExp(CRON_PATTERN).test(expression)) return false;
  try {
    CronExpressionParser.parse(expression, { strict: false });
    return true;
  } catch {
    return false;
  }
}

/** A 5-field cron expression; admission checks the shape, the operator the values. */
export const cron = () =>
  z
    .string()
    .max(128)
    .regex(new RegExp(CRON_PATTERN), {
      error: 'must be a 5-field cron expression such as "*/15 * * * *"',
    })
    .refine(isValidCron, { error: 'has a cron field out of range' });

/** True when `name` is a time zone this runtime knows (IANA name such as `Europe/Paris`). */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name; admission checks the shape, the operator that it exists. */
export const timeZone = () =>
  z
    .string()
    .max(64)
    .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, {
      error: 'must be an IANA time zone name such as Etc/UTC or Europe/Paris',
    })
    .refine(isKnownTimeZone, { error: 'is not a known IANA time zone' });

/** An absolute http(s) URL. */
export const HTTP_URL_PATTERN = '^https?://[^\\s/?#]+([/?#]\\S*)?$';

/** An absolute http(s) URL, at most 2048 characters. */
export const httpURL = () =>
  z.string().max(2048).regex(new RegExp(HTTP_URL_PATTERN), {
    error: 'must be an absolute http:// or https:// URL',
  });

/** A DNS-1123 label (a namespace, a Job name); its length (at most 63) is checked apart. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether `value` is a DNS-1123 label of at most `maxLength` (default 63) characters. */
export function isDnsLabel(value: string, maxLength = 63): boolean {
  return value.length <= maxLength && DNS_LABEL.test(value);
}

/** A DNS-1123 subdomain: the name of most Kubernetes objects (Secrets, policies). */
export const dnsSubdomain = () =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
      error: 'must be a lowercase DNS-1123 subdomain (a-z, 0-9, "-" and ".")',
    });

/** A key in a Secret or ConfigMap. */
export const dataKey = () =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[-._a-zA-Z0-9]+$/, {
      error: 'must consist of alphanumeric characters, "-", "_" or "."',
    });

/** An HTTP header name (RFC 9110 token). */
export const headerName = () =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be a valid HTTP header name' });

/** A dot-separated path into a JSON document, e.g. `data` or `result.items`. */
export const jsonPath = () =>
  z
    .string()
    .max(256)
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, {
      error: 'must be a dot-separated path such as data or result.items',
    });

/**
 * A Kubernetes resource quantity as run pods use them: a non-negative decimal with an optional
 * decimal (`k`, `M`, `G`, `T`, `P`, `E`, `m`), binary (`Ki` … `Ei`) or exponent suffix, e.g.
 * `100m`, `0.5`, `128Mi`, `1G`, `1e3`. The exponent has at most two digits: the API server's own
 * parser spends minutes on `1E-125786375` (the fuzzer's request timed out with a 504), and no
 * pod needs more than e18. No backslashes, so CEL rules can embed the pattern as it is.
 */
export const QUANTITY_PATTERN =
  '^([0-9]+([.][0-9]*)?|[.][0-9]+)([KMGTPE]i|[mkMGTPE]|[eE][+-]?[0-9]{1,2})?$';

const QUANTITY_SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a {@link QUANTITY_PATTERN} quantity as a number (`128Mi` → 134217728). */
export function parseQuantity(text: string): number | undefined {
  const match = new RegExp(QUANTITY_PATTERN).exec(text);
  if (match === null) return undefined;
  const suffix = match[3] ?? '';
  const number = Number(match[1]);
  // `1e3` is an exponent; `1Ei` (exbibytes) is not.
  if (/^[eE][+-]?[0-9]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * (QUANTITY_SUFFIX[suffix] ?? Number.NaN);
}

/** A resource quantity such as `100m`, `128Mi` or `1`. */
export const quantity = () =>
  z.string().max(64).regex(new RegExp(QUANTITY_PATTERN), {
    error: 'must be a Kubernetes quantity such as 100m, 0.5, 128Mi or 2Gi',
  });

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of ≤63. */
export const QUALIFIED_NAME_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?' +
  '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

/** Whether `key` is a valid label or annotation key (prefix at most 253 characters). */
export function isQualifiedName(key: string): boolean {
  const slash = key.indexOf('/');
  return (slash < 0 || slash <= 253) && new RegExp(QUALIFIED_NAME_PATTERN).test(key);
}

/** A label value: empty, or at most 63 alphanumerics, `-`, `_` and `.`, alphanumeric at ends. */
export const labelValue = () =>
  z
    .string()
    .max(63)
    .regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, {
      error:
        'must be a label value: at most 63 of a-z, A-Z, 0-9, "-", "_", ".", alphanumeric at both ends',
    });
