import { describe, expect, it } from 'vitest';
import { SyncError, isRetryable, redact } from '../../../operator/runtime/errors.ts';
import { classifyFailure, classifyStatus } from '../../../operator/runtime/http/classify.ts';

describe('classifyStatus', () => {
  it.each([
    [401, 'Authentication', false],
    [403, 'Authentication', false],
    [404, 'NotFound', false],
    [400, 'Configuration', false],
    [405, 'Configuration', false],
    [422, 'Configuration', false],
    [302, 'Configuration', false],
    [408, 'Timeout', true],
    [429, 'RateLimited', true],
    [500, 'ServerError', true],
    [502, 'ServerError', true],
    [503, 'ServerError', true],
    [504, 'ServerError', true],
  ] as const)('%i is %s (retryable: %s)', (status, code, retryable) => {
    expect(classifyStatus(status)).toBe(code);
    expect(isRetryable(classifyStatus(status))).toBe(retryable);
  });
});

describe('classifyFailure', () => {
  const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });
  it.each([
    ['ECONNRESET', withCode('ECONNRESET', 'socket hang up'), 'Network'],
    ['ECONNREFUSED', withCode('ECONNREFUSED'), 'Network'],
    ['EPIPE', withCode('EPIPE'), 'Network'],
    ['ENOTFOUND', withCode('ENOTFOUND'), 'Network'],
    ['undici other side closed', withCode('UND_ERR_SOCKET', 'other side closed'), 'Network'],
    ['connect timeout', withCode('UND_ERR_CONNECT_TIMEOUT'), 'Timeout'],
    ['headers timeout', withCode('UND_ERR_HEADERS_TIMEOUT'), 'Timeout'],
    ['body timeout', withCode('UND_ERR_BODY_TIMEOUT'), 'Timeout'],
    ['ETIMEDOUT', withCode('ETIMEDOUT'), 'Timeout'],
    ['a TLS certificate problem', withCode('CERT_HAS_EXPIRED'), 'Configuration'],
    ['a wrapped reset', new Error('fetch failed', { cause: withCode('ECONNRESET') }), 'Network'],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'Interrupted'],
    ['an unknown wire error', new Error('weird'), 'Network'],
  ] as const)('%s is %s', (_name, error, code) => {
    expect(classifyFailure(error)).toBe(code);
  });
});

describe('SyncError and redact', () => {
  it('derives retryable from the code', () => {
    expect(new SyncError('RateLimited', 'x').retryable).toBe(true);
    expect(new SyncError('Authentication', 'x').retryable).toBe(false);
    expect(new SyncError('Interrupted', 'x').retryable).toBe(true);
  });

  it('removes known secrets and credential-shaped strings', () => {
    const text = redact(
      'failed with Authorization: Bearer abc.def and key sk_live_123abc, token s3cr3t-value, shpat_99ff',
      ['s3cr3t-value'],
    );
    expect(text).not.toMatch(/abc\.def|sk_live_123abc|s3cr3t-value|shpat_99ff/);
    expect(text).toContain('Bearer [REDACTED]');
  });
});
