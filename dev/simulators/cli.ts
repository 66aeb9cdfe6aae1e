/**
 * Runs simulators until SIGINT/SIGTERM and prints one JSON line describing them (URLs and the
 * credentials they accept), e.g. for the demo:
 *
 *   node dev/simulators/cli.ts --stripe --shopify --generic --destination --records 200
 *
 * With no simulator flag, all four start.
 */
import { parseArgs } from 'node:util';
import { startSimulators } from './index.ts';

const usage = `usage: node dev/simulators/cli.ts [--stripe] [--shopify] [--generic] [--destination]
  [--records N (default 100)] [--seed N (default 1)] [--destination-token TOKEN]
  [--replay (repeated idempotency keys answer 200 instead of 409; both Idempotent-Replayed: true)]
  [--unique FIELD (unique-constraint mode: another id with the same FIELD value answers 409)]
  [--stripe-port N] [--shopify-port N] [--generic-port N] [--destination-port N] (default 0: free)
  [--shopify-leak N (bucket leak, calls/s; default 2)]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stripe: { type: 'boolean', default: false },
      shopify: { type: 'boolean', default: false },
      generic: { type: 'boolean', default: false },
      destination: { type: 'boolean', default: false },
      records: { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      'destination-token': { type: 'string' },
      replay: { type: 'boolean', default: false },
      unique: { type: 'string' },
      'stripe-port': { type: 'string', default: '0' },
      'shopify-port': { type: 'string', default: '0' },
      'generic-port': { type: 'string', default: '0' },
      'destination-port': { type: 'string', default: '0' },
      'shopify-leak': { type: 'string', default: '2' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const records = integer(values.records, '--records');
  const seed = integer(values.seed, '--seed');
  const none = !values.stripe && !values.shopify && !values.generic && !values.destination;
  const token = values['destination-token'];
  const simulators = await startSimulators({
    seed,
    records,
    stripe: (none || values.stripe) && { port: integer(values['stripe-port'], '--stripe-port') },
    shopify: (none || values.shopify) && {
      port: integer(values['shopify-port'], '--shopify-port'),
      leakPerSecond: integer(values['shopify-leak'], '--shopify-leak'),
    },
    generic: (none || values.generic) && {
      port: integer(values['generic-port'], '--generic-port'),
    },
    destination: (none || values.destination) && {
      port: integer(values['destination-port'], '--destination-port'),
      ...(token === undefined ? {} : { token }),
      onDuplicateKey: values.replay ? 'replay' : 'conflict',
      ...(values.unique === undefined ? {} : { unique: { field: values.unique } }),
    },
  });
  process.stdout.write(`${JSON.stringify(simulators.describe())}\n`);
  const shutdown = () => {
    void simulators.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function integer(raw: string, flag: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw))
    throw new Error(`${flag} must be a non-negative integer, got ${raw}\n${usage}`);
  return value;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
