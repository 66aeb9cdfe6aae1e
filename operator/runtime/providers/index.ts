/** Chooses the provider module for a source. */
import { SyncError } from '../errors.ts';
import { httpProvider } from './http.ts';
import { shopifyProvider } from './shopify.ts';
import { stripeProvider } from './stripe.ts';
import type { Provider, ProviderContext } from './types.ts';

export type { Item, Page, PassStart, Provider, ProviderContext } from './types.ts';

/** The provider for `context.source.provider`; throws Configuration when the source is incomplete. */
export function createProvider(context: ProviderContext): Provider {
  const { source } = context;
  switch (source.provider) {
    case 'stripe':
      if (source.resource === undefined) throw missing('resource', source.provider);
      return stripeProvider(context);
    case 'shopify':
      if (source.resource === undefined) throw missing('resource', source.provider);
      if (source.baseURL === undefined) throw missing('baseURL', source.provider);
      if (source.apiVersion === undefined) throw missing('apiVersion', source.provider);
      return shopifyProvider(context);
    case 'http':
      return httpProvider(context);
  }
}

function missing(field: string, provider: string): SyncError {
  return new SyncError('Configuration', `source.${field} is required for provider ${provider}`);
}
