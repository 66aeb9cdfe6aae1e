import { describe, expect, it } from 'vitest';
import { reconcileLogger, runLogKeys } from '../../../operator/lib/log.ts';
import { captureLogger } from '../controller/machinery/support.ts';

describe('createLogger', () => {
  it('removes credentials at any of the first levels of nesting', () => {
    const { log, lines } = captureLogger();
    log.info(
      {
        token: 'tok-one',
        apiKey: 'key-one',
        request: {
          headers: { authorization: 'Bearer tok-two', Authorization: 'Bearer tok-three' },
        },
        connector: { auth: { password: 'pass-one', secret: 'sec-one' } },
        kept: 'visible',
      },
      'hello',
    );
    const text = JSON.stringify(lines());
    for (const leaked of ['tok-one', 'key-one', 'T2', 'T3', 'pass-one', 'sec-one'])
      expect(text).not.toContain(leaked);
    expect(text).toContain('visible');
  });
});

describe('createLogger line format', () => {
  it('writes string levels, ISO time, the component as logger and one name key', () => {
    const { log, lines } = captureLogger();
    reconcileLogger(log, 'integration', 'team-a/orders', 'abcd1234').warn('x');
    const [line] = lines();
    expect(line).toMatchObject({ level: 'warn', logger: 'tributary', name: 'orders' });
    expect(line?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(line).match(/"name":/g)).toHaveLength(1);
  });
});

describe('runLogKeys', () => {
  it('names the run as operator and run pod lines both do, the due time in RFC 3339', () => {
    expect(
      runLogKeys({
        integration: 'orders',
        uid: 'u-1',
        job: 'orders-s-1767607200-1',
        kind: 'sync',
        attempt: 1,
        dueTime: new Date(Date.UTC(2026, 0, 5, 10)),
      }),
    ).toEqual({
      integration: 'orders',
      uid: 'u-1',
      job: 'orders-s-1767607200-1',
      kind: 'sync',
      attempt: 1,
      dueTime: '2026-01-05T10:00:00Z',
    });
    expect(
      runLogKeys({
        integration: 'o',
        uid: 'u',
        job: 'j',
        kind: 'sync',
        attempt: 2,
        dueTime: '2026-01-05T10:00:00Z',
      }).dueTime,
    ).toBe('2026-01-05T10:00:00Z');
  });
});

describe('reconcileLogger', () => {
  it('carries controller, namespace, name and a reconcileID', () => {
    const { log, lines } = captureLogger();
    reconcileLogger(log, 'integration', 'team-a/orders', 'abcd1234').info('x');
    expect(lines()[0]).toMatchObject({
      controller: 'integration',
      namespace: 'team-a',
      name: 'orders',
      reconcileID: 'abcd1234',
    });
  });
});
