/** `kubectl tributary get [NAME]`: the health table of Integrations, or them as JSON / YAML. */
import { stringify } from 'yaml';
import type { Integration } from '../api/index.ts';
import {
  CliError,
  integrationPath,
  list,
  readIntegration,
  session,
  type FlagValues,
} from './client.ts';
import { healthTable } from './format.ts';

/** Prints the Integrations; resolves to the exit code. */
export async function get(args: string[], values: FlagValues): Promise<number> {
  const s = session(values);
  const all = values['all-namespaces'] === true;
  const output = values.output;
  if (output !== undefined && output !== 'json' && output !== 'yaml') {
    throw new CliError(`-o must be json or yaml, got ${JSON.stringify(output)}`);
  }
  const name = args[0];
  const items: Integration[] =
    name !== undefined
      ? [await readIntegration(s, name)]
      : await list<Integration>(s, integrationPath(all ? undefined : s.namespace));
  items.sort((a, b) =>
    `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
      `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
    ),
  );
  if (output === 'json') {
    console.log(JSON.stringify(name !== undefined ? items[0] : { items }, null, 2));
  } else if (output === 'yaml') {
    process.stdout.write(stringify(name !== undefined ? items[0] : { items }));
  } else if (items.length === 0) {
    console.log(
      all ? 'No Integrations found.' : `No Integrations found in namespace ${s.namespace}.`,
    );
  } else {
    console.log(healthTable(items, all, new Date()));
  }
  return 0;
}
