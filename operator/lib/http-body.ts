/**
 * Reading a request body with a byte cap, for every server of the project (the intake's
 * deliveries port, the health port's POST routes): the declared Content-Length is checked first,
 * and reading stops — the stream paused, the rest left unread — as soon as the cap is passed, so
 * the caller can still answer 413 and close the connection.
 */
import type { IncomingMessage } from 'node:http';

/** The whole body of `req`, or undefined as soon as it is known to exceed `max` bytes. */
export function readCappedBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (value: Buffer | undefined) => {
      req.off('data', onData).off('end', onEnd).off('error', reject);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else {
        req.pause();
        stop(undefined);
      }
    };
    const onEnd = () => {
      stop(Buffer.concat(chunks));
    };
    req.on('data', onData).on('end', onEnd).on('error', reject);
  });
}
