/**
 * Writes every generated artifact: `crds/*.yaml` from the zod schemas and `manifests/*.yaml`
 * from the cdk8s app.
 * `npm run generate`; a unit test fails when the committed files differ from this output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderManifests } from '../manifests/src/app.ts';
import { renderCustomResourceDefinitions } from '../operator/api/render.ts';

const root = join(import.meta.dirname, '..');
const crdDir = join(root, 'crds');
mkdirSync(crdDir, { recursive: true });
for (const [file, text] of renderCustomResourceDefinitions()) {
  writeFileSync(join(crdDir, file), text);
  console.log(`wrote crds/${file}`);
}
for (const [file, text] of renderManifests()) {
  writeFileSync(join(root, 'manifests', file), text);
  console.log(`wrote manifests/${file}`);
}
