/**
 * Requests to the API server as admin with the body sent exactly as given (a typed client would
 * refuse or reshape hostile bodies before they left), answering the status code and the parsed
 * body: what the hostile-specs scenario sends and judges.
 */
import { request } from 'node:https';
import type { ClusterClient } from '../../../dev/cluster/cluster.ts';
import { serialize } from './mutations.ts';

/** An answer of the API server. */
export interface RawAnswer {
  status: number;
  body: Record<string, unknown>;
  /** The body as received. */
  text: string;
}

/** Sends `method path` with `body` serialized as JSON ({@link serialize}); never throws on a status. */
export function rawRequest(
  client: ClusterClient,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<RawAnswer> {
  const url = new URL(client.info.server + path);
  const payload = body === undefined ? undefined : serialize(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        ca: client.info.ca,
        headers: {
          Authorization: `Bearer ${client.info.adminToken}`,
          Accept: 'application/json',
          ...(payload === undefined ? {} : { 'Content-Type': contentType }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { message: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** `reason` of a Status answer and the reasons of its causes, e.g. `Invalid` and `FieldValueTooLong`. */
export function rejectionReasons(answer: RawAnswer): { reason: string; causes: string[] } {
  const details = answer.body.details as { causes?: { reason?: string }[] } | undefined;
  const reason = typeof answer.body.reason === 'string' ? answer.body.reason : 'None';
  return { reason, causes: (details?.causes ?? []).map((cause) => cause.reason ?? 'None') };
}
