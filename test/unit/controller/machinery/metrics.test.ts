import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.ts';
import { ControllerMetrics } from '../../../../operator/controller/machinery/metrics.ts';
import { TermQueues } from '../../../../operator/controller/term.ts';

/** The registry's exposition, one line per sample, comments dropped. */
async function samples(registry: Registry): Promise<string[]> {
  return (await registry.metrics())
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Term queues on a fake clock, instrumented as the operator does. */
function setup() {
  const clock = new FakeClock(0);
  const registry = new Registry();
  const metrics = new ControllerMetrics({ registry });
  const queues = new TermQueues(TermQueues.factory(clock, metrics));
  return { clock, registry, metrics, queues };
}

/** The `le` of a bucket line as a number (`+Inf` is Infinity). */
function le(line: string): number {
  const value = /le="([^"]+)"/.exec(line)?.[1];
  return value === '+Inf' ? Infinity : Number(value);
}

const labels = '{name="integration",controller="integration"}';

describe('workqueue metrics under controller-runtime names', () => {
  it('counts adds, depth, queue and work durations and retries per controller', async () => {
    const { clock, registry, queues } = setup();
    const queue = queues.begin().integrations;
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    await clock.advance(250);
    const key = (await queue.get()) ?? '';
    await clock.advance(1500);
    queue.done(key);
    queue.addRateLimited('ns/a');
    queue.addAfter('ns/c', 60_000);
    const lines = await samples(registry);
    expect(lines).toEqual(
      expect.arrayContaining([
        `workqueue_adds_total${labels} 2`,
        `workqueue_depth${labels} 1`,
        `workqueue_queue_duration_seconds_bucket{le="0.1",name="integration",controller="integration"} 0`,
        `workqueue_queue_duration_seconds_bucket{le="1",name="integration",controller="integration"} 1`,
        `workqueue_queue_duration_seconds_sum${labels} 0.25`,
        `workqueue_queue_duration_seconds_count${labels} 1`,
        `workqueue_work_duration_seconds_bucket{le="1",name="integration",controller="integration"} 0`,
        `workqueue_work_duration_seconds_bucket{le="10",name="integration",controller="integration"} 1`,
        `workqueue_work_duration_seconds_sum${labels} 1.5`,
        `workqueue_retries_total${labels} 2`,
      ]),
    );
    expect(lines.filter((line) => line.includes('tributary_workqueue'))).toEqual([]);
  });

  it("uses controller-runtime's buckets: ten-fold from 10 ns to 1,000 s", async () => {
    const { clock, registry, queues } = setup();
    const queue = queues.begin().policies;
    queue.add('ns/p');
    await clock.advance(1);
    await queue.get();
    const les = (await samples(registry))
      .filter((line) => line.startsWith('workqueue_queue_duration_seconds_bucket'))
      .map(le);
    expect(les).toEqual([
      1e-8,
      1e-7,
      1e-6,
      1e-5,
      1e-4,
      1e-3,
      1e-2,
      1e-1,
      1,
      10,
      100,
      1000,
      Infinity,
    ]);
    expect((await samples(registry)).join('\n')).toContain(
      'workqueue_depth{name="reconcilepolicy",controller="reconcilepolicy"} 0',
    );
  });

  it("reads the work in flight at scrape time, from the current term's queue", async () => {
    const { clock, registry, queues } = setup();
    const first = queues.begin().integrations;
    first.add('ns/a');
    first.add('ns/b');
    await first.get();
    await clock.advance(3000);
    await first.get();
    await clock.advance(1000);
    expect(await samples(registry)).toEqual(
      expect.arrayContaining([
        `workqueue_unfinished_work_seconds${labels} 5`,
        `workqueue_longest_running_processor_seconds${labels} 4`,
      ]),
    );
    first.shutDown();
    const second = queues.begin().integrations; // a new term: its queue is the one read
    second.add('ns/c');
    await second.get();
    await clock.advance(500);
    expect(await samples(registry)).toEqual(
      expect.arrayContaining([
        `workqueue_unfinished_work_seconds${labels} 0.5`,
        `workqueue_longest_running_processor_seconds${labels} 0.5`,
      ]),
    );
  });
});

describe('rest_client_rate_limiter_duration_seconds', () => {
  it("records waits by verb and host with client-go's buckets", async () => {
    const { registry, metrics } = setup();
    metrics.rateLimiterWait('GET', '10.96.0.1:443', 0);
    metrics.rateLimiterWait('POST', '10.96.0.1:443', 0.3);
    const lines = await samples(registry);
    expect(lines).toEqual(
      expect.arrayContaining([
        'rest_client_rate_limiter_duration_seconds_bucket{le="0.005",verb="GET",host="10.96.0.1:443"} 1',
        'rest_client_rate_limiter_duration_seconds_bucket{le="0.25",verb="POST",host="10.96.0.1:443"} 0',
        'rest_client_rate_limiter_duration_seconds_bucket{le="0.5",verb="POST",host="10.96.0.1:443"} 1',
        'rest_client_rate_limiter_duration_seconds_count{verb="POST",host="10.96.0.1:443"} 1',
      ]),
    );
    const les = lines
      .filter((line) => line.includes('_bucket') && line.includes('verb="GET"'))
      .map(le);
    expect(les).toEqual([0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, Infinity]);
  });
});
