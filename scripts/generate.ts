/**
 * Writes every generated artifact from the zod schemas: `crds/*.yaml`.
 * `npm run generate`; a unit test fails when the committed files differ from this output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCustomResourceDefinitions } from '../operator/api/render.ts';

const root = join(import.meta.dirname, '..');
const crdDir = join(root, 'crds');
mkdirSync(crdDir, { recursive: true });
for (const [file, text] of renderCustomResourceDefinitions()) {
  writeFileSync(join(crdDir, file), text);
  console.log(`wrote crds/${file}`);
}
