import { describe, expect, it } from 'vitest';
import {
  linkWithRel,
  parseDeprecation,
  parseLinks,
  parseRetryAfter,
} from '../../../operator/runtime/http/headers.ts';
import { nextPageInfo, shopifyPauseMs } from '../../../operator/runtime/providers/shopify.ts';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('parseRetryAfter', () => {
  it.each([
    ['seconds', '3', 3000],
    ['zero', '0', 0],
    ['an HTTP date 90 s ahead', 'Wed, 01 Jan 2025 12:01:30 GMT', 90_000],
    ['an HTTP date in the past', 'Wed, 01 Jan 2025 11:00:00 GMT', 0],
    ['garbage', 'soon', undefined],
    ['absent', undefined, undefined],
  ] as const)('%s', (_name, value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });
});

describe('Link header', () => {
  it('finds rel=next among several links, quoted or not', () => {
    const value =
      '<https://a.test/p?page_info=abc&limit=5>; rel="previous", <https://a.test/p?page_info=def&limit=5>; rel=next';
    expect(parseLinks(value)).toHaveLength(2);
    expect(linkWithRel(value, 'next')).toBe('https://a.test/p?page_info=def&limit=5');
    expect(nextPageInfo(value)).toBe('def');
    expect(nextPageInfo('<https://a.test/p?page_info=abc>; rel="previous"')).toBeUndefined();
  });

  it('accepts several relation types in one rel', () => {
    expect(linkWithRel('</x>; rel="last next"', 'next')).toBe('/x');
  });
});

describe('parseDeprecation', () => {
  const from = (headers: Record<string, string>) => (name: string) => headers[name];
  it.each([
    ['none', {}, undefined],
    [
      'RFC 9745 @epoch with a Sunset date',
      { deprecation: '@1735689600', sunset: 'Wed, 31 Dec 2025 23:59:59 GMT' },
      {
        message: 'GET /v1/x is deprecated since 2025-01-01T00:00:00Z; sunset 2025-12-31T23:59:59Z',
        sunset: '2025-12-31T23:59:59Z',
      },
    ],
    ['a legacy "true"', { deprecation: 'true' }, { message: 'GET /v1/x is deprecated' }],
    [
      'a deprecation link',
      { deprecation: '@0', link: '<https://docs.test/dep>; rel="deprecation"' },
      { message: 'GET /v1/x is deprecated since 1970-01-01T00:00:00Z; see https://docs.test/dep' },
    ],
    [
      "Shopify's reason header",
      { 'x-shopify-api-deprecated-reason': 'https://shopify.dev/changelog/x' },
      { message: 'GET /v1/x is deprecated; Shopify: https://shopify.dev/changelog/x' },
    ],
  ] as const)('%s', (_name, headers, notice) => {
    expect(parseDeprecation(from(headers), 'GET /v1/x')).toEqual(notice);
  });
});

describe('shopifyPauseMs', () => {
  it.each([
    ['absent', undefined, 0],
    ['far from the limit', '3/40', 0],
    ['at the threshold', '32/40', 500],
    ['almost full', '39/40', 4000],
  ] as const)('%s', (_name, value, ms) => {
    expect(shopifyPauseMs(value)).toBe(ms);
  });
});
