/**
 * One connection pool per TLS identity. client-node's `applySecurityAuthentication` builds a new
 * undici Agent for every request, so each call paid a TCP and TLS handshake and left a keep-alive
 * socket behind (186 sockets and ~200 MB of native memory while 2,000 Integrations got their
 * first status). The operator keeps the first Agent it is given for the kubeconfig's current
 * cluster and credentials, and swaps it only when they change (a rotated certificate file, a
 * switched context): the fresh Agent of each request is dropped unused, having opened nothing.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { statSync } from 'node:fs';

/** What both client-node's and the project's undici versions accept as a dispatcher. */
interface Closable {
  close(): Promise<void>;
}

/** The pooled dispatcher of the current TLS identity. */
export class ConnectionPools<D extends Closable> {
  #key: string | undefined;
  #dispatcher: D | undefined;

  /** The pooled dispatcher for `kubeConfig`'s identity: `fresh` when it is the first or new. */
  pick(kubeConfig: KubeConfig, fresh: D | undefined): D | undefined {
    const key = identity(kubeConfig);
    if (key === this.#key) return this.#dispatcher;
    const old = this.#dispatcher;
    this.#key = key;
    this.#dispatcher = fresh;
    // Lets in-flight calls (watches too) finish on the old pool; new ones use the new.
    void old?.close().catch(() => undefined);
    return fresh;
  }
}

/** The fields a connection depends on; file-backed ones with the file's modification time. */
export function identity(kubeConfig: KubeConfig): string {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  return JSON.stringify([
    cluster?.server,
    cluster?.caData,
    fileStamp(cluster?.caFile),
    cluster?.skipTLSVerify,
    cluster?.tlsServerName,
    cluster?.proxyUrl,
    user?.certData,
    fileStamp(user?.certFile),
    user?.keyData,
    fileStamp(user?.keyFile),
  ]);
}

function fileStamp(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return `${path}@${statSync(path).mtimeMs}`;
  } catch {
    return `${path}@missing`;
  }
}
