import { describe, expect, it } from 'vitest';
import { reconcileLogger } from '../../../operator/lib/log.ts';
import { captureLogger } from '../controller/machinery/support.ts';

describe('createLogger', () => {
  it('removes credentials at any of the first levels of nesting', () => {
    const { log, lines } = captureLogger();
    log.info(
      {
        token: 'T1',
        apiKey: 'K1',
        request: { headers: { authorization: 'Bearer T2', Authorization: 'Bearer T3' } },
        connector: { auth: { password: 'P1', secret: 'S1' } },
        kept: 'visible',
      },
      'hello',
    );
    const text = JSON.stringify(lines());
    for (const leaked of ['T1', 'K1', 'T2', 'T3', 'P1', 'S1']) expect(text).not.toContain(leaked);
    expect(text).toContain('visible');
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
