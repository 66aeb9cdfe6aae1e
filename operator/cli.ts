#!/usr/bin/env node
/**
 * `tributary`: one binary for every role. `operator` runs the controller; `sync` and
 * `drift-check` run inside Jobs; `validate` checks manifests offline.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { validateIntegration, validateReconcilePolicy } from './api/index.ts';

const USAGE = `tributary — run third-party integrations as Kubernetes infrastructure

Usage: tributary <command> [options]

Commands:
  operator      Run the controller against $KUBECONFIG or the in-cluster config (not yet built)
  sync          Run one sync inside a Job (not yet built)
  drift-check   Run one drift check inside a Job (not yet built)
  validate      Check Integration and ReconcilePolicy manifests offline: tributary validate FILE...
  help          Show this help

Options:
  -h, --help    Show this help
`;

/** Checks every Integration and ReconcilePolicy document in `files`; returns the exit code. */
function validateFiles(files: string[]): number {
  let failures = 0;
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const object: unknown = document.toJS();
      const kind = (object as { kind?: unknown } | null)?.kind;
      const result =
        kind === 'Integration'
          ? validateIntegration(object)
          : kind === 'ReconcilePolicy'
            ? validateReconcilePolicy(object)
            : undefined;
      if (result === undefined) continue;
      const name = result.ok ? result.value.metadata.name : '';
      if (result.ok) {
        console.log(`${file}: ${String(kind)} ${name}: valid`);
      } else {
        failures++;
        for (const error of result.errors) console.error(`${file}: ${String(kind)}: ${error}`);
      }
    }
  }
  return failures === 0 ? 0 : 1;
}

/** Runs the command line; returns the process exit code. */
export function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case 'validate':
      return validateFiles(rest);
    case 'operator':
    case 'sync':
    case 'drift-check':
      console.error(`tributary ${command}: not implemented yet`);
      return 2;
    default:
      console.error(`tributary: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
