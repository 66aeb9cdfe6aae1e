/**
 * The part of the kubelet's API the API server proxies `pods/log` to:
 * `GET /containerLogs/{namespace}/{pod}/{container}`, answered from the file that holds the
 * container's output, with `tailLines` and `limitBytes` as the kubelet takes them (`follow` is
 * answered with what is there so far). HTTPS on 127.0.0.1 with the certificate it is given; like
 * a kubelet without `--client-ca-file`, it asks the API server for no credentials, and the API
 * server (without `--kubelet-certificate-authority`) does not check this certificate.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** The serving certificate and key (PEM). */
export interface LogServerTls {
  cert: string;
  key: string;
}

/** The last `tailLines` lines of `text`, then at most `limitBytes` of it from the start. */
export function selectLog(text: Buffer, tailLines?: number, limitBytes?: number): Buffer {
  let out = text;
  if (tailLines !== undefined && tailLines >= 0) {
    const lines = out.toString('utf8').split('\n');
    const complete = lines.at(-1) === '' ? lines.slice(0, -1) : lines;
    const kept = complete.slice(Math.max(0, complete.length - tailLines));
    out = Buffer.from(kept.length === 0 ? '' : `${kept.join('\n')}\n`);
  }
  return limitBytes !== undefined && limitBytes >= 0 ? out.subarray(0, limitBytes) : out;
}

function numberParam(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : Number(value);
}

/** Starts the server on a free loopback port; resolves with it and its port. */
export async function startLogServer(
  tls: LogServerTls,
  logPath: (namespace: string, pod: string, container: string) => string,
): Promise<{ server: Server; port: number }> {
  const server = createServer(tls, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://kubelet');
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (request.method !== 'GET' || match === null) {
      response.writeHead(404).end('not found');
      return;
    }
    const [, namespace = '', pod = '', container = ''] = match.map(decodeURIComponent);
    readFile(logPath(namespace, pod, container)).then(
      (text) => {
        const body = selectLog(
          text,
          numberParam(url.searchParams, 'tailLines'),
          numberParam(url.searchParams, 'limitBytes'),
        );
        response.writeHead(200, { 'content-type': 'text/plain' }).end(body);
      },
      () => {
        response.writeHead(404).end(`no log for container ${container} of ${namespace}/${pod}`);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
