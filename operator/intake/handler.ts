/**
 * `POST /hooks/{namespace}/{name}`: the raw body is read with a byte cap, verified against every
 * signing secret before anything parses it, stored durably, and only then acknowledged.
 * Answers: 202 stored, 200 duplicate or ignored event type, 401 not verified (nothing stored),
 * 404 no such Integration or no webhook, 405 not a POST, 413 over the cap, 503 the store (or a
 * signing Secret) is unavailable — the sender retries — and never 410, which tells senders to
 * disable the endpoint.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  InboxUnavailableError,
  webhookToleranceMs,
  type Inbox,
  type InboxIntegration,
  type Integration,
  type SecretKeyRef,
  type WebhookScheme,
} from '../api/index.ts';
import type { Clock } from '../lib/clock.ts';
import { readCappedBody } from '../lib/http-body.ts';
import { isMachineryError } from '../lib/kube/errors.ts';
import type { Log } from '../lib/log.ts';
import type { SignedRequest, Verification } from './schemes/index.ts';

/** Verifies a request against secrets (operator/intake/schemes verifyDelivery). */
export type Verify = (
  scheme: WebhookScheme,
  request: SignedRequest,
  secrets: readonly string[],
  now: number,
  toleranceMs: number,
) => Verification;

/** The results a request can end in: the `result` label of the request metrics. */
export type HookResult =
  | 'stored'
  | 'duplicate'
  | 'ignored'
  | 'rejected'
  | 'not_found'
  | 'too_large'
  | 'method_not_allowed'
  | 'unavailable'
  | 'secret_missing'
  | 'error';

/** What the handler needs. */
export interface HookHandlerOptions {
  inbox: Inbox;
  directory: {
    integration(namespace: string, name: string): Promise<Integration | undefined>;
    secret(namespace: string, ref: SecretKeyRef): Promise<string | undefined>;
  };
  verify: Verify;
  clock: Clock;
  log: Log;
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** Namespaces served; undefined: all. */
  namespaces?: readonly string[] | undefined;
  /** Called once per request with its result and how long the answer took (metrics). */
  observe?: (
    result: HookResult,
    seconds: number,
    integration: InboxIntegration | undefined,
  ) => void;
}

/** An answer: status, JSON body, and the result it counts as. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
  result: HookResult;
  integration?: InboxIntegration | undefined;
  headers?: Record<string, string>;
}

const ROUTE = /^\/hooks\/([a-z0-9][-a-z0-9]{0,62})\/([a-z0-9][-.a-z0-9]{0,252})\/?$/;

/** Handles one request to the deliveries port. */
export function hookHandler(options: HookHandlerOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await route(req, options);
    } catch (error) {
      // The store, or the API server holding the Integration and its secrets: retry later.
      const unavailable = error instanceof InboxUnavailableError || isMachineryError(error);
      options.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        'delivery not stored',
      );
      answer = unavailable
        ? {
            status: 503,
            body: { error: 'the intake cannot store deliveries now; retry later' },
            result: 'unavailable',
            headers: { 'retry-after': '30' },
          }
        : { status: 500, body: { error: 'internal error; retry later' }, result: 'error' };
    }
    const headers = { 'content-type': 'application/json', ...answer.headers };
    if (answer.result === 'too_large') discardRest(req, headers);
    res.writeHead(answer.status, headers).end(`${JSON.stringify(answer.body)}\n`);
    options.observe?.(answer.result, (performance.now() - started) / 1000, answer.integration);
  };
}

/** Decides the answer to one request. */
async function route(req: IncomingMessage, options: HookHandlerOptions): Promise<Answer> {
  if (req.method !== 'POST') {
    return {
      status: 405,
      body: { error: 'deliveries are POSTed' },
      result: 'method_not_allowed',
      headers: { allow: 'POST' },
    };
  }
  const match = ROUTE.exec(new URL(req.url ?? '/', 'http://intake').pathname);
  const [namespace, name] = [match?.[1], match?.[2]];
  const notFound: Answer = {
    status: 404,
    body: { error: 'no webhook is served here' },
    result: 'not_found',
  };
  if (namespace === undefined || name === undefined) return notFound;
  if (options.namespaces !== undefined && !options.namespaces.includes(namespace)) return notFound;
  const body = await readCappedBody(req, options.maxBodyBytes);
  if (body === undefined) {
    return {
      status: 413,
      body: { error: `the body is over ${options.maxBodyBytes} bytes` },
      result: 'too_large',
    };
  }
  const integration = await options.directory.integration(namespace, name);
  if (integration?.spec.webhook === undefined) return notFound;
  return accept(req, body, integration, options);
}

/** An answer about `integration`. */
function answer(
  status: number,
  result: HookResult,
  body: Record<string, unknown>,
  integration: InboxIntegration,
): Answer {
  return { status, result, body, integration };
}

/** Verifies, filters and stores a delivery for an Integration that has a webhook. */
async function accept(
  req: IncomingMessage,
  body: Buffer,
  integration: Integration,
  options: HookHandlerOptions,
): Promise<Answer> {
  const webhook = integration.spec.webhook;
  if (webhook === undefined) throw new Error('accept: no webhook');
  const target: InboxIntegration = {
    namespace: integration.metadata.namespace ?? '',
    name: integration.metadata.name,
    uid: integration.metadata.uid ?? '',
  };
  const secrets = await signingSecrets(integration, options);
  if (secrets.length === 0) {
    const where = { namespace: target.namespace, integration: target.name };
    options.log.warn(where, 'no signing secret of spec.webhook.secretRefs exists');
    const error = 'the signing secret is not configured yet; retry later';
    return answer(503, 'secret_missing', { error }, target);
  }
  const now = options.clock.now();
  const header = (key: string) => {
    const value = req.headers[key.toLowerCase()];
    return Array.isArray(value) ? value.join(',') : value;
  };
  const request = { header, body };
  const verified = options.verify(
    webhook.scheme,
    request,
    secrets,
    now,
    webhookToleranceMs(webhook),
  );
  if (!verified.ok) {
    await countRefusal(options, target, 'rejected', verified.problem, now);
    return answer(401, 'rejected', { error: verified.problem }, target);
  }
  const { id, eventType } = verified;
  if (webhook.eventTypes !== undefined && !webhook.eventTypes.includes(eventType)) {
    await countRefusal(options, target, 'ignored', eventType, now);
    return answer(200, 'ignored', { status: 'ignored', eventType }, target);
  }
  const delivery = { integration: target, id, eventType, scheme: webhook.scheme, receivedAt: now };
  const outcome = await options.inbox.put({ ...delivery, body: body.toString('utf8') });
  return outcome === 'stored'
    ? answer(202, 'stored', { status: 'stored', id }, target)
    : answer(200, 'duplicate', { status: 'duplicate', id }, target);
}

/** The values of every signing secret that exists (a missing one is skipped: rotation). */
async function signingSecrets(
  integration: Integration,
  options: HookHandlerOptions,
): Promise<string[]> {
  const namespace = integration.metadata.namespace ?? '';
  const refs = integration.spec.webhook?.secretRefs ?? [];
  const values = await Promise.all(refs.map((ref) => options.directory.secret(namespace, ref)));
  return values.filter((value): value is string => value !== undefined && value !== '');
}

/** Counts a refused delivery; a store that cannot count does not change the answer. */
async function countRefusal(
  options: HookHandlerOptions,
  target: InboxIntegration,
  kind: 'rejected' | 'ignored',
  detail: string,
  now: number,
): Promise<void> {
  await options.inbox.count(target, kind, detail, now).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    options.log.warn(
      { namespace: target.namespace, integration: target.name, err: message },
      `a ${kind} delivery was not counted`,
    );
  });
}

/**
 * Over the cap: the answer closes the connection, and the rest of the body is read and dropped
 * meanwhile (for 5 s at most) — closing at once would reset the connection under a sender still
 * uploading, before it reads the 413.
 */
function discardRest(req: IncomingMessage, headers: Record<string, string>): void {
  headers.connection = 'close';
  req.resume();
  setTimeout(() => req.destroy(), 5000).unref();
}
