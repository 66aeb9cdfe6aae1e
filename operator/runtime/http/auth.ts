/** Request authentication from a credential value and an `HTTPAuth` description. */
import type { z } from 'zod';
import type { HTTPAuth } from '../../api/index.ts';

/** How a request authenticates: bearer (default), basic (`user:password`) or a named header. */
export type AuthSpec = z.infer<typeof HTTPAuth>;

/**
 * The headers that authenticate a request with `secret` as described by `auth` (bearer when
 * unset); none without a secret. Also returns the derived values that must be redacted.
 */
export function authHeaders(
  auth: AuthSpec | undefined,
  secret: string | undefined,
): { headers: Record<string, string>; secrets: string[] } {
  if (secret === undefined || secret === '') return { headers: {}, secrets: [] };
  switch (auth?.type ?? 'bearer') {
    case 'bearer':
      return { headers: { authorization: `Bearer ${secret}` }, secrets: [secret] };
    case 'basic': {
      const encoded = Buffer.from(secret).toString('base64');
      const password = secret.slice(secret.indexOf(':') + 1);
      return {
        headers: { authorization: `Basic ${encoded}` },
        secrets: [secret, encoded, password],
      };
    }
    case 'header':
      return {
        headers: { [(auth?.header ?? 'authorization').toLowerCase()]: secret },
        secrets: [secret],
      };
  }
}
