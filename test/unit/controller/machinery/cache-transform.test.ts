import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  LAST_APPLIED,
  stripServerFields,
  trimRunJob,
  trimRunPod,
} from '../../../../operator/controller/machinery/cache-transform.ts';
import { KubeListWatch } from '../../../../operator/controller/machinery/transport.ts';
import type { ApiRequest, ApiTransport } from '../../../../operator/lib/kube/api.ts';

const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];

describe('stripServerFields', () => {
  it('drops managedFields and the last-applied annotation, keeping every other field', () => {
    const object = {
      apiVersion: 'tributary.dev/v1alpha1',
      kind: 'Integration',
      metadata: {
        name: 'a',
        uid: 'u',
        generation: 3,
        managedFields,
        annotations: { [LAST_APPLIED]: '{"spec":{}}', 'tributary.dev/sync-requested': 'now' },
        labels: { team: 'payments' },
      },
      spec: { suspend: true },
      status: { observedGeneration: 3 },
    };
    expect(stripServerFields(object)).toEqual({
      apiVersion: 'tributary.dev/v1alpha1',
      kind: 'Integration',
      metadata: {
        name: 'a',
        uid: 'u',
        generation: 3,
        annotations: { 'tributary.dev/sync-requested': 'now' },
        labels: { team: 'payments' },
      },
      spec: { suspend: true },
      status: { observedGeneration: 3 },
    });
  });

  it('drops an annotations map left empty, and leaves objects without metadata alone', () => {
    const object = { metadata: { name: 'a', annotations: { [LAST_APPLIED]: '{}' } } };
    expect(stripServerFields(object)).toEqual({ metadata: { name: 'a' } });
    expect(stripServerFields({ kind: 'X' })).toEqual({ kind: 'X' });
  });
});

describe('trimRunJob and trimRunPod', () => {
  it('keep a Job without its pod template and a pod with only its containers names and images', () => {
    const job: V1Job = {
      metadata: { name: 'j', labels: { 'job-name': 'j' }, managedFields },
      spec: {
        backoffLimit: 0,
        template: {
          spec: { containers: [{ name: 'run', env: [{ name: 'TRIBUTARY_RUN', value: '{}' }] }] },
        },
      },
      status: { succeeded: 1 },
    };
    expect(trimRunJob(job)).toEqual({
      metadata: { name: 'j', labels: { 'job-name': 'j' } },
      spec: { backoffLimit: 0 },
      status: { succeeded: 1 },
    });
    const pod: V1Pod = {
      metadata: { name: 'p', managedFields },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'run', image: 'img:1', env: [{ name: 'X', value: 'y' }] }],
        volumes: [{ name: 'v' }],
      },
      status: { phase: 'Running' },
    };
    expect(trimRunPod(pod)).toEqual({
      metadata: { name: 'p' },
      spec: { nodeName: 'n1', containers: [{ name: 'run', image: 'img:1' }] },
      status: { phase: 'Running' },
    });
  });
});

/** Answers every list with `list` and every watch with `lines`. */
class FixedApi implements ApiTransport {
  readonly list: unknown;
  readonly lines: string;
  constructor(list: unknown, lines: string) {
    this.list = list;
    this.lines = lines;
  }
  request<T>(_request: ApiRequest): Promise<T> {
    return Promise.resolve(this.list as T);
  }
  stream(_request: ApiRequest): Promise<AsyncIterable<Uint8Array>> {
    const text = this.lines;
    return Promise.resolve(
      (async function* () {
        await Promise.resolve();
        yield new TextEncoder().encode(text);
      })(),
    );
  }
}

describe('KubeListWatch with a transform', () => {
  it('applies it to listed items and to added, modified and deleted objects, not bookmarks', async () => {
    const object = { metadata: { name: 'a', resourceVersion: '2', managedFields } };
    const lines = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']
      .map((type) => JSON.stringify({ type, object }))
      .join('\n');
    const api = new FixedApi({ kind: 'ThingList', apiVersion: 'v1', items: [object] }, lines);
    const watch = new KubeListWatch({ api, path: '/api/v1/things', transform: stripServerFields });
    const page = await watch.list({}, new AbortController().signal);
    expect(page.items[0]?.metadata).toEqual({ name: 'a', resourceVersion: '2' });
    const kept: unknown[] = [];
    for await (const event of watch.watch(
      { resourceVersion: '1', timeoutSeconds: 60 },
      new AbortController().signal,
    ))
      kept.push([
        event.type,
        (event.object as { metadata?: { managedFields?: unknown } }).metadata?.managedFields,
      ]);
    expect(kept).toEqual([
      ['ADDED', undefined],
      ['MODIFIED', undefined],
      ['DELETED', undefined],
      ['BOOKMARK', managedFields],
    ]);
  });
});
