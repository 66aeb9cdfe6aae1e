import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildInfo, registerBuildInfo } from '../../../operator/lib/build-info.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('tributary_build_info', () => {
  it('carries the package version, the revision from TRIBUTARY_REVISION and the Node.js version', async () => {
    const registry = new Registry();
    registerBuildInfo(registry, buildInfo({ TRIBUTARY_REVISION: '8505ec1' }));
    expect(await registry.metrics()).toContain(
      `tributary_build_info{version="${pkg.version}",revision="8505ec1",nodejs_version="${process.version.slice(1)}"} 1`,
    );
  });

  it('says unknown for a build without a revision', () => {
    expect(buildInfo({}).revision).toBe('unknown');
    expect(buildInfo({ TRIBUTARY_REVISION: '' }).revision).toBe('unknown');
  });
});
