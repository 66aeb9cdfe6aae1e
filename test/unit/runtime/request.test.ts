import { describe, expect, it } from 'vitest';
import { pageError, pageSize, withParams } from '../../../operator/runtime/providers/request.ts';
import type { ProviderContext } from '../../../operator/runtime/providers/types.ts';

const context = (size?: number) => ({ pageSize: size }) as ProviderContext;

describe('pageSize', () => {
  it.each([
    ['the default', context(), {}, 100],
    ["the run's", context(40), {}, 40],
    ["the source's own over the run's", context(40), { configured: 7 }, 7],
    ["the provider's maximum", context(500), { max: 250 }, 250],
  ])('is %s', (_name, given, options, expected) => {
    expect(pageSize(given, options)).toBe(expected);
  });
});

describe('withParams', () => {
  it('sets the given parameters in order, leaves out undefined ones, keeps the base', () => {
    const base = new URL('https://api.example/v1/x?keep=1&limit=9');
    const url = withParams(base, { limit: '5', page_info: undefined, after: 'a b' });
    expect(url.href).toBe('https://api.example/v1/x?keep=1&limit=5&after=a+b');
    expect(base.href).toBe('https://api.example/v1/x?keep=1&limit=9');
  });
});

describe('pageError', () => {
  it('names the request without its query (which may carry cursors or tokens)', () => {
    const error = pageError('ServerError', new URL('https://api.example/v1/x?token=t'), 'no data');
    expect(error).toMatchObject({ code: 'ServerError', retryable: true });
    expect(error.message).toBe('GET https://api.example/v1/x: no data');
  });
});
