/**
 * Helpers for simulator tests: start a simulator for one test and stop it afterwards, and small
 * HTTP helpers that return what a client sees.
 */
import { afterEach } from 'vitest';
import type { SimulatorServer } from '../../../dev/simulators/server.ts';

const running: SimulatorServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});

/** Starts `server` and stops it after the current test; resolves with the server. */
export async function started<T extends SimulatorServer>(server: T): Promise<T> {
  running.push(server);
  await server.start();
  return server;
}

/** What a client saw: status, headers and the parsed JSON body (undefined when empty). */
export interface Seen {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Sends a request and parses the JSON body. */
export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Seen> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

/** POSTs JSON to a control route (`/__control/<name>`) and returns the parsed body. */
export async function control(base: string, name: string, body?: unknown): Promise<unknown> {
  const seen = await call(`${base}/__control/${name}`, {
    method: body === undefined ? 'GET' : 'POST',
    body,
  });
  if (seen.status >= 300)
    throw new Error(`control ${name}: ${seen.status} ${JSON.stringify(seen.body)}`);
  return seen.body;
}

/** Reads a field of a parsed JSON object (tests narrow with expectations). */
export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** The ids of parsed records. */
export function ids(records: unknown): unknown[] {
  return Array.isArray(records) ? records.map((record) => field(record, 'id')) : [];
}
