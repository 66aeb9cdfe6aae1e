import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { IntakeMatcher, MATCH_BATCH } from '../../../../operator/runtime/gaps/match.ts';
import { sendJSON, startServer } from '../support.ts';
import { startIntakeStandIn } from './intake.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function matcher(intake: string[], timeoutMs?: number): IntakeMatcher {
  const dispatcher = new Agent();
  cleanups.push(() => dispatcher.close());
  return new IntakeMatcher({ intake, uid: 'uid-1', dispatcher, timeoutMs });
}

async function standIn() {
  const intake = await startIntakeStandIn();
  cleanups.push(() => intake.stop());
  return intake;
}

/** A base URL where nothing listens (a server started, then stopped). */
async function refusedURL(): Promise<string> {
  const server = await startServer((_req, res) => {
    res.end();
  });
  await server.close();
  return server.url;
}

const read = (...ids: string[]) => ids.map((id) => ({ id, version: '2025-01-01T10:00:00Z' }));

describe('IntakeMatcher', () => {
  it('unites the matches of every intake store (each replica keeps its own)', async () => {
    const [a, b] = [await standIn(), await standIn()];
    a.inbox.apply('uid-1', 'r1', '2025-01-01T10:00:00Z');
    b.inbox.apply('uid-1', 'r2', '2025-01-01T10:05:00Z');
    b.inbox.apply('uid-1', 'r3', '2025-01-01T09:00:00Z'); // an older change than the one read
    const m = matcher([a.url, b.url]);
    expect([...(await m.match(read('r1', 'r2', 'r3', 'r4')))].sort()).toEqual(['r1', 'r2']);
    expect(m.unavailable()).toBeUndefined();
  });

  it(`asks in batches of at most ${MATCH_BATCH} records`, async () => {
    const seen: number[] = [];
    const intake = await startServer((req, res) => {
      const { records } = JSON.parse(req.body) as { records: { id: string }[] };
      seen.push(records.length);
      sendJSON(res, { matched: records.map((r) => r.id) });
    });
    cleanups.push(() => intake.close());
    const ids = Array.from({ length: 1203 }, (_, i) => `r${i}`);
    const matched = await matcher([intake.url]).match(read(...ids));
    expect(seen).toEqual([500, 500, 203]);
    expect(matched.size).toBe(1203);
    expect(intake.requests.every((r) => r.method === 'POST' && r.url === '/match')).toBe(true);
  });

  it('asks nothing for a page without judged records', async () => {
    const intake = await startServer((_req, res) => {
      sendJSON(res, { matched: [] });
    });
    cleanups.push(() => intake.close());
    expect((await matcher([intake.url]).match([])).size).toBe(0);
    expect(intake.requests).toHaveLength(0);
  });

  it('names a store that cannot be asked, keeps the others, and skips it for the rest of the pass', async () => {
    const good = await standIn();
    good.inbox.apply('uid-1', 'r1', '2025-01-01T10:00:00Z');
    const broken = await standIn();
    broken.inbox.down = true; // its inbox throws InboxUnavailableError: /match answers 503
    const refused = await refusedURL();
    const m = matcher([good.url, broken.url, refused]);
    expect([...(await m.match(read('r1', 'r2')))]).toEqual(['r1']);
    const unavailable = m.unavailable() ?? '';
    expect(unavailable).toContain(`${broken.url}: answered 503`);
    expect(unavailable).toContain(`${refused}: connection refused`);
    expect(unavailable).not.toContain(good.url);
    broken.inbox.down = false;
    const lookups = broken.inbox.lookups;
    await m.match(read('r3'));
    expect(broken.inbox.lookups).toBe(lookups);
  });

  it('gives up on a store that does not answer within the deadline', async () => {
    const silent = await startServer(() => {
      // Never answers.
    });
    cleanups.push(() => silent.close());
    const m = matcher([silent.url], 100);
    expect((await m.match(read('r1'))).size).toBe(0);
    expect(m.unavailable()).toBe(`${silent.url}: no answer within 100 ms`);
  });

  it.each([
    ['a 404 (an intake without /match)', 404, { error: 'not found' }, 'answered 404'],
    ['a 200 without a list', 200, { ok: true }, 'answered without a matched list'],
  ])('counts %s as unavailable', async (_name, status, answer, why) => {
    const intake = await startServer((_req, res) => {
      sendJSON(res, answer, status);
    });
    cleanups.push(() => intake.close());
    const m = matcher([intake.url]);
    await m.match(read('r1'));
    expect(m.unavailable()).toBe(`${intake.url}: ${why}`);
  });
});
