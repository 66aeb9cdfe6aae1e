/** Every provider simulator serves one record by id (for retrying quarantined records). */
import { describe, expect, it } from 'vitest';
import { GenericSimulator } from '../../../dev/simulators/generic.ts';
import { ShopifySimulator } from '../../../dev/simulators/shopify.ts';
import { StripeSimulator } from '../../../dev/simulators/stripe.ts';
import { call, started } from './support.ts';

describe('one record by id', () => {
  it('stripe: GET /v1/{resource}/{id}, 404 for an unknown id, 401 without a key', async () => {
    const stripe = await started(new StripeSimulator({ records: 5 }));
    stripe.dataset().setMalformed([2], 'missingEmail');
    const headers = { authorization: 'Bearer sk_test_tributary' };
    const seen = await call(`${stripe.url}/v1/customers/cus_00000002`, { headers });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ id: 'cus_00000002', object: 'customer' });
    expect(seen.body).not.toHaveProperty('email');
    expect((await call(`${stripe.url}/v1/customers/cus_00000009`, { headers })).status).toBe(404);
    expect((await call(`${stripe.url}/v1/customers/cus_00000002`)).status).toBe(401);
    stripe.dataset().clearMalformed([2]);
    const fixed = await call(`${stripe.url}/v1/customers/cus_00000002`, { headers });
    expect(fixed.body).toHaveProperty('email');
  });

  it('shopify: GET /admin/api/{version}/{resource}/{id}.json under the singular key', async () => {
    const shopify = await started(new ShopifySimulator({ records: 5, resources: ['orders'] }));
    const id = String(shopify.dataset('orders').idAt(3));
    const headers = { 'x-shopify-access-token': 'shpat_tributary' };
    const seen = await call(`${shopify.url}/admin/api/2024-07/orders/${id}.json`, { headers });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ order: { id: Number(id) } });
    const missing = await call(`${shopify.url}/admin/api/2024-07/orders/1.json`, { headers });
    expect(missing.status).toBe(404);
  });

  it('generic: GET {path}/{id}, the record as the body', async () => {
    const generic = await started(new GenericSimulator({ records: 5 }));
    const headers = { authorization: 'Bearer generic-token' };
    const seen = await call(`${generic.url}/v1/items/item_00000001`, { headers });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ id: 'item_00000001' });
    expect((await call(`${generic.url}/v1/items/nope`, { headers })).status).toBe(404);
  });
});
