/**
 * `npm run bench [-- NAME... [options]]`: runs benchmarks by name. A benchmark is a module
 * `bench/<name>.ts` exporting `run(args: string[]): Promise<void>` (and optionally a one-line
 * `summary`); adding one needs no change here. With no name, every benchmark runs in turn.
 * Leading arguments without a dash are names; everything from the first option on is passed to
 * each selected benchmark. A benchmark fails by throwing; the exit code is then 1.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Benchmark {
  run(args: string[]): Promise<void>;
  summary?: string;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Names of the benchmark modules in bench/ (every `<name>.ts` except this file). */
function available(): string[] {
  return readdirSync(HERE, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && entry.name !== 'run.ts')
    .map((entry) => entry.name.slice(0, -'.ts'.length))
    .sort();
}

async function load(name: string): Promise<Benchmark> {
  const module = (await import(`./${name}.ts`)) as Partial<Benchmark>;
  if (typeof module.run !== 'function')
    throw new Error(`bench/${name}.ts does not export run(args)`);
  return module as Benchmark;
}

async function usage(names: string[]): Promise<string> {
  const lines = await Promise.all(
    names.map(async (name) => `  ${name.padEnd(10)} ${(await load(name)).summary ?? ''}`.trimEnd()),
  );
  return [
    'usage: npm run bench [-- NAME... [options]]',
    '',
    'Runs the named benchmarks (all of them when no name is given); options after the names go',
    'to each benchmark. `npm run bench -- NAME --help` shows the options of one.',
    '',
    'Benchmarks:',
    ...lines,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const names = available();
  const split = argv.findIndex((arg) => arg.startsWith('-'));
  const selected = split === -1 ? argv : argv.slice(0, split);
  const args = split === -1 ? [] : argv.slice(split);
  if (selected.length === 0 && (args.includes('--help') || args.includes('-h'))) {
    console.log(await usage(names));
    return 0;
  }
  const unknown = selected.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.map((n) => `"${n}"`).join(', ')}\n`);
    console.error(await usage(names));
    return 2;
  }
  const chosen = selected.length > 0 ? selected : names;
  for (const [index, name] of chosen.entries()) {
    if (index > 0) console.log('');
    await (await load(name)).run(args);
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
