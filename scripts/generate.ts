/**
 * Writes every generated artifact: `crds/*.yaml` from the zod schemas, `manifests/**.yaml`
 * and the chart's generated files (CRDs, alert rules, values.schema.json) from the cdk8s app the chart's README from its values, and `docs/reference.md` from the CRDs and the API's defaults.
 * `npm run generate`; a unit test fails when the committed files differ from this output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderChartFiles, renderManifests } from '../manifests/src/app.ts';
import { renderCustomResourceDefinitions } from '../operator/api/render.ts';
import { renderChartReadme } from './chart-readme.ts';
import { renderReference } from './reference.ts';

const root = join(import.meta.dirname, '..');
const crdDir = join(root, 'crds');
mkdirSync(crdDir, { recursive: true });
for (const [file, text] of renderCustomResourceDefinitions()) {
  writeFileSync(join(crdDir, file), text);
  console.log(`wrote crds/${file}`);
}
for (const [file, text] of renderManifests()) {
  const target = join(root, 'manifests', file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote manifests/${file}`);
}
for (const [file, text] of renderChartFiles()) {
  const target = join(root, 'charts', 'tributary', file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote charts/tributary/${file}`);
}
// After the chart's files: the README reads values.schema.json.
writeFileSync(join(root, 'charts', 'tributary', 'README.md'), renderChartReadme());
console.log('wrote charts/tributary/README.md');
writeFileSync(join(root, 'docs', 'reference.md'), renderReference());
console.log('wrote docs/reference.md');
