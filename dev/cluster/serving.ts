/**
 * The secure port of a Kubernetes component (kube-scheduler, kube-controller-manager) on
 * 127.0.0.1: the flags that open it, and GETs against it. The component makes a self-signed
 * certificate for 127.0.0.1 in `certDir` (`<pairName>.crt`, its CA appended), which the GETs
 * verify against. Without `--authentication-kubeconfig`/`--authorization-kubeconfig` every
 * request is anonymous and only the always-allowed paths answer: the health checks and
 * `/metrics`; there is no insecure port.
 */
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { freePort } from './processes.ts';

/** The paths anyone may GET. */
export const ALWAYS_ALLOWED_PATHS = ['/healthz', '/readyz', '/livez', '/metrics'] as const;

/** A component's secure port. */
export interface SecurePort {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The component's flags that serve it. */
  readonly args: readonly string[];
  /** GET `path`: its status and body. Throws when nothing answers or TLS does not verify. */
  get(path: string): Promise<{ status: number; body: string }>;
}

/** Picks a free port for a component whose certificate pair is `<certDir>/<pairName>.*`. */
export async function securePort(certDir: string, pairName: string): Promise<SecurePort> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    args: [
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${certDir}`,
      `--authorization-always-allow-paths=${ALWAYS_ALLOWED_PATHS.join(',')}`,
    ],
    get: (path) => httpsGet(url + path, readFileSync(join(certDir, `${pairName}.crt`))),
  };
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { ca, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
  });
}
