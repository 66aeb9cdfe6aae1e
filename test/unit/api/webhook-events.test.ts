/** eventObject: where each scheme's event carries its object, and spec.webhook.objectPath. */
import { describe, expect, it } from 'vitest';
import type { WebhookScheme } from '../../../operator/api/webhook.ts';
import { eventObject } from '../../../operator/api/webhook-events.ts';

const customer = { id: 'cus_1', email: 'a@example.com' };

const cases: {
  name: string;
  scheme: WebhookScheme;
  body: unknown;
  eventType: string;
  objectPath?: string;
  expected: Record<string, unknown> | undefined;
}[] = [
  {
    name: 'stripe: data.object',
    scheme: 'stripe',
    body: { id: 'evt_1', type: 'customer.updated', data: { object: customer } },
    eventType: 'customer.updated',
    expected: customer,
  },
  {
    name: 'stripe: no data.object',
    scheme: 'stripe',
    body: { id: 'evt_1', data: {} },
    eventType: 'customer.updated',
    expected: undefined,
  },
  {
    name: 'stripe: data.object not an object',
    scheme: 'stripe',
    body: { data: { object: 'cus_1' } },
    eventType: 'x',
    expected: undefined,
  },
  {
    name: 'shopify: the body itself',
    scheme: 'shopify',
    body: customer,
    eventType: 'customers/update',
    expected: customer,
  },
  {
    name: 'shopify: an array body',
    scheme: 'shopify',
    body: [customer],
    eventType: 'customers/update',
    expected: undefined,
  },
  {
    name: 'standard: data',
    scheme: 'standard',
    body: { type: 'invoice.paid', timestamp: 't', data: customer },
    eventType: 'invoice.paid',
    expected: customer,
  },
  {
    name: 'standard: data missing',
    scheme: 'standard',
    body: { type: 'invoice.paid' },
    eventType: 'invoice.paid',
    expected: undefined,
  },
  {
    name: 'github: issues → issue',
    scheme: 'github',
    body: { action: 'opened', issue: customer },
    eventType: 'issues.opened',
    expected: customer,
  },
  {
    name: 'github: pull_request → pull_request',
    scheme: 'github',
    body: { action: 'closed', pull_request: customer },
    eventType: 'pull_request.closed',
    expected: customer,
  },
  {
    name: 'github: the exact name first (deployment_status)',
    scheme: 'github',
    body: { deployment_status: customer, deployment: { id: 2 } },
    eventType: 'deployment_status.created',
    expected: customer,
  },
  {
    name: 'github: without an action',
    scheme: 'github',
    body: { release: customer },
    eventType: 'release',
    expected: customer,
  },
  {
    name: 'github: no field named by the event (push)',
    scheme: 'github',
    body: { ref: 'refs/heads/main', commits: [] },
    eventType: 'push',
    expected: undefined,
  },
  {
    name: 'github: no event type',
    scheme: 'github',
    body: { issue: customer },
    eventType: '',
    expected: undefined,
  },
  {
    name: 'objectPath overrides the default',
    scheme: 'stripe',
    body: { data: { object: {}, previous: customer } },
    eventType: 'x',
    objectPath: 'data.previous',
    expected: customer,
  },
  {
    name: 'objectPath on github',
    scheme: 'github',
    body: { payload: { record: customer } },
    eventType: 'issues.opened',
    objectPath: 'payload.record',
    expected: customer,
  },
  {
    name: 'objectPath that is missing',
    scheme: 'standard',
    body: { data: customer },
    eventType: 'x',
    objectPath: 'data.nothing',
    expected: undefined,
  },
  {
    name: 'objectPath does not read inherited keys',
    scheme: 'shopify',
    body: {},
    eventType: 'x',
    objectPath: 'constructor',
    expected: undefined,
  },
  {
    name: 'a body that is not an object',
    scheme: 'stripe',
    body: 'text',
    eventType: 'x',
    expected: undefined,
  },
];

describe('eventObject', () => {
  it.each(cases)('$name', ({ scheme, body, eventType, objectPath, expected }) => {
    expect(eventObject(scheme, body, eventType, objectPath)).toEqual(expected);
  });
});
