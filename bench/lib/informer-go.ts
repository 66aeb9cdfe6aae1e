/**
 * The client-go informer baseline of the memory phase (bench/children/informer-go): built on
 * first use with the local Go toolchain from the Go module proxy into
 * `~/.cache/tributary/bench/informer-go-<hash of its sources>` (about 2 minutes on 2 cores), then
 * run once per reading: it caches the namespace's Integrations, forces GCs, prints its Go heap
 * and RSS, and exits.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../children/informer-go/', import.meta.url));

/** One reading of the informer program. */
export interface InformerReading {
  objects: number;
  heapAllocBytes: number;
  rssBytes: number;
}

/** The cached binary, built first if missing. */
export async function informerBinary(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(SOURCE, file)));
  const dir = join(homedir(), '.cache', 'tributary', 'bench');
  const binary = join(dir, `informer-go-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  console.log(`scale: building ${binary} (once)`);
  const partial = `${binary}.${process.pid}.tmp`;
  await run('go', ['build', '-p', '2', '-o', partial, '.'], {
    cwd: SOURCE,
    env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
    maxBuffer: 16 * 2 ** 20,
  });
  renameSync(partial, binary);
  return binary;
}

/** Runs the program against `kubeconfig` for `namespace`; its JSON line. */
export async function readInformer(
  binary: string,
  kubeconfig: string,
  namespace: string,
  settleMs: number,
): Promise<InformerReading> {
  const { stdout } = await run(binary, [
    `--kubeconfig=${kubeconfig}`,
    `--namespace=${namespace}`,
    `--settle=${settleMs}ms`,
  ]);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as InformerReading;
}
