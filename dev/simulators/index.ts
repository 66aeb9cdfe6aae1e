/**
 * Starts any subset of the simulators on 127.0.0.1 with one seed and record count, and describes
 * them (URLs and the credentials they accept) for the demo, e2e tests and benchmarks.
 */
import { DestinationSimulator, type DestinationSimulatorOptions } from './destination.ts';
import {
  defaultGenericToken,
  GenericSimulator,
  type GenericAuth,
  type GenericSimulatorOptions,
} from './generic.ts';
import { defaultShopifyToken, ShopifySimulator, type ShopifySimulatorOptions } from './shopify.ts';
import { defaultStripeKey, StripeSimulator, type StripeSimulatorOptions } from './stripe.ts';

export {
  Dataset,
  rfc3339,
  type DatasetOptions,
  type MalformedKind,
  type SimRecord,
} from './dataset.ts';
export {
  DestinationSimulator,
  type DestinationSimulatorOptions,
  type DestinationStats,
  type DuplicateKeyMode,
  type KeyRecord,
} from './destination.ts';
export type { FaultScope, FaultSpec, FaultStatus, FaultType } from './faults.ts';
export {
  defaultGenericToken,
  GenericSimulator,
  type GenericAuth,
  type GenericPagination,
  type GenericSimulatorOptions,
} from './generic.ts';
export { linkWithRel, parseLinks, type WebLink } from './link.ts';
export type { DatasetChange, DatasetSummary } from './provider.ts';
export type { RequestLogEntry, SimulatorServer, SimulatorStats } from './server.ts';
export {
  defaultShopifyToken,
  ShopifySimulator,
  shopifyIdBase,
  type ShopifySimulatorOptions,
} from './shopify.ts';
export { defaultStripeKey, StripeSimulator, type StripeSimulatorOptions } from './stripe.ts';
export {
  REQUEST_TIMEOUTS,
  RETRY_WAITS,
  SIGNATURE_HEADER,
  WebhookSender,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEvent,
  type WebhookFaults,
  type WebhookSenderOptions,
  type WebhookSenderStats,
} from './webhooks/index.ts';

/** Which simulators to start: `true` for defaults, or options (seed and records default to the shared ones). */
export interface SimulatorsOptions {
  /** Seed of every simulator. Default 1. */
  seed?: number;
  /** Records per provider resource. Default 100. */
  records?: number;
  stripe?: boolean | StripeSimulatorOptions;
  shopify?: boolean | ShopifySimulatorOptions;
  generic?: boolean | GenericSimulatorOptions;
  destination?: boolean | DestinationSimulatorOptions;
}

/** How to reach the started simulators (the CLI prints this as one JSON line). */
export interface SimulatorsDescription {
  stripe?: { url: string; apiKey: string; resources: string[] };
  shopify?: { url: string; accessToken: string; resources: string[] };
  generic?: { url: string; paths: string[]; auth: GenericAuth };
  destination?: { url: string; token?: string };
}

/** Started simulators; `stop` stops them all. */
export interface RunningSimulators {
  stripe?: StripeSimulator;
  shopify?: ShopifySimulator;
  generic?: GenericSimulator;
  destination?: DestinationSimulator;
  /** URLs and credentials. */
  describe(): SimulatorsDescription;
  /** Stops every started simulator, closing every connection. */
  stop(): Promise<void>;
}

/** Starts the selected simulators; if one fails to start, the started ones are stopped. */
export async function startSimulators(options: SimulatorsOptions): Promise<RunningSimulators> {
  const shared = { seed: options.seed ?? 1, records: options.records ?? 100 };
  const stripe = selected(options.stripe, shared);
  const shopify = selected(options.shopify, shared);
  const generic = selected(options.generic, shared);
  const destination = selected(options.destination, { seed: shared.seed });
  const servers = {
    ...(stripe === undefined ? {} : { stripe: new StripeSimulator(stripe) }),
    ...(shopify === undefined ? {} : { shopify: new ShopifySimulator(shopify) }),
    ...(generic === undefined ? {} : { generic: new GenericSimulator(generic) }),
    ...(destination === undefined ? {} : { destination: new DestinationSimulator(destination) }),
  };
  const all = Object.values(servers);
  const stop = async () => {
    await Promise.all(all.map((server) => server.stop()));
  };
  try {
    await Promise.all(all.map((server) => server.start()));
  } catch (err) {
    await stop();
    throw err;
  }
  const description: SimulatorsDescription = {
    ...(servers.stripe === undefined
      ? {}
      : {
          stripe: {
            url: servers.stripe.url,
            apiKey: stripe?.apiKey ?? defaultStripeKey,
            resources: servers.stripe.resources(),
          },
        }),
    ...(servers.shopify === undefined
      ? {}
      : {
          shopify: {
            url: servers.shopify.url,
            accessToken: shopify?.accessToken ?? defaultShopifyToken,
            resources: servers.shopify.resources(),
          },
        }),
    ...(servers.generic === undefined
      ? {}
      : {
          generic: {
            url: servers.generic.url,
            paths: servers.generic.resources().map((r) => servers.generic?.pathOf(r) ?? r),
            auth: generic?.auth ?? { type: 'bearer', token: defaultGenericToken },
          },
        }),
    ...(servers.destination === undefined
      ? {}
      : {
          destination: {
            url: servers.destination.url,
            ...(destination?.token === undefined ? {} : { token: destination.token }),
          },
        }),
  };
  return { ...servers, describe: () => description, stop };
}

function selected<T extends object>(
  value: boolean | T | undefined,
  shared: Partial<T>,
): T | undefined {
  if (value === undefined || value === false) return undefined;
  return { ...shared, ...(value === true ? {} : value) } as T;
}
