/**
 * What a sync and a drift check set up alike: the run kind and the built-in connector's inputs
 * are checked, and one HTTP client per side is made (the source one rate-limited by policy),
 * both knowing the secrets to redact; on them, the source provider, the destination writer and
 * the record validator.
 */
import type { Dispatcher } from 'undici';
import { parseDuration, type RunKind } from '../api/index.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { RunInput } from '../api/run-input.ts';
import { DestinationWriter } from './destination.ts';
import { SyncError } from './errors.ts';
import { authHeaders } from './http/auth.ts';
import { HttpClient, createAgent } from './http/client.ts';
import type { ConnectOptions } from './options.ts';
import { createProvider, type Provider } from './providers/index.ts';
import { compileSchema, type RecordValidator } from './schema.ts';

/** A run input whose source and destination are present. */
export type ConnectedInput = RunInput & {
  source: NonNullable<RunInput['source']>;
  destination: NonNullable<RunInput['destination']>;
};

/** The checked input, the clock and one client per side. */
export interface Connection {
  input: ConnectedInput;
  clock: Clock;
  sourceClient: HttpClient;
  destinationClient: HttpClient;
}

/** Checks that the input is a `kind` run of the built-in connector and makes its clients. */
export function connect(
  options: ConnectOptions,
  kind: RunKind,
  dispatcher: Dispatcher,
  timeoutMs: number,
): Connection {
  const { input, credentials, log } = options;
  if (input.kind !== kind) {
    throw new SyncError('Configuration', `run kind ${input.kind} is not a ${kind}`);
  }
  const { source, destination } = input;
  if (!source || !destination) {
    throw new SyncError(
      'Configuration',
      'the built-in connector needs spec.source and spec.destination',
    );
  }
  const clock = options.clock ?? systemClock({ keepAlive: true });
  const common = {
    dispatcher,
    timeoutMs,
    clock,
    random: options.random,
    secrets: [
      ...authHeaders(source.http?.auth, credentials.source).secrets,
      ...authHeaders(destination.auth, credentials.destination).secrets,
    ],
    signal: options.signal,
    retry: options.retry,
  };
  return {
    input: { ...input, source, destination },
    clock,
    sourceClient: new HttpClient({
      ...common,
      rateLimit: input.policy.rateLimit,
      log: log.child({ side: 'source' }),
    }),
    destinationClient: new HttpClient({ ...common, log: log.child({ side: 'destination' }) }),
  };
}

/** A connection with what every run reads and writes through it. */
export interface RunParts extends Connection {
  /** The source, as its provider reads it. */
  provider: Provider;
  /** Idempotent writes to the destination. */
  writer: DestinationWriter;
  /** The record contract of `spec.schema`. */
  validator: RecordValidator;
}

/** {@link connect}, then the source provider, the destination writer and the validator. */
export function connectRun(
  options: ConnectOptions,
  kind: RunKind,
  dispatcher: Dispatcher,
  timeoutMs: number,
): RunParts {
  const { credentials } = options;
  const connection = connect(options, kind, dispatcher, timeoutMs);
  const { input, clock, sourceClient, destinationClient } = connection;
  return {
    ...connection,
    provider: createProvider({
      source: input.source,
      client: sourceClient,
      credentials: credentials.source,
      pageSize: options.pageSize,
      clock,
      signal: options.signal,
    }),
    writer: new DestinationWriter({
      destination: input.destination,
      client: destinationClient,
      integrationUID: input.integration.uid,
      credentials: credentials.destination,
    }),
    validator: compileSchema(input.schema),
  };
}

/** Request timeout when the policy's cannot be read, in milliseconds. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Runs `body` with the run's dispatcher (the given one, or a keep-alive Agent of this run that
 * is closed afterwards) and the request timeout of the policy.
 */
export async function withDispatcher<T>(
  options: ConnectOptions,
  body: (dispatcher: Dispatcher, timeoutMs: number) => Promise<T>,
): Promise<T> {
  const timeoutMs =
    parseDuration(options.input.policy.timeouts.request) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (options.dispatcher) return body(options.dispatcher, timeoutMs);
  const agent = createAgent(timeoutMs);
  try {
    return await body(agent, timeoutMs);
  } finally {
    await agent.close();
  }
}
