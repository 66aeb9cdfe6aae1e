/**
 * What a sync and a drift check set up alike: the run kind and the built-in connector's inputs
 * are checked, and one HTTP client per side is made (the source one rate-limited by policy),
 * both knowing the secrets to redact.
 */
import type { Dispatcher } from 'undici';
import { parseDuration, type RunKind } from '../api/index.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import type { RunInput } from '../api/run-input.ts';
import { SyncError } from './errors.ts';
import { authHeaders } from './http/auth.ts';
import { HttpClient, createAgent } from './http/client.ts';
import type { RunnerOptions } from './sync.ts';

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
  options: RunnerOptions,
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

/** Request timeout when the policy's cannot be read, in milliseconds. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Runs `body` with the run's dispatcher (the given one, or a keep-alive Agent of this run that
 * is closed afterwards) and the request timeout of the policy.
 */
export async function withDispatcher<T>(
  options: RunnerOptions,
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
