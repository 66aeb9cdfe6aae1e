/**
 * The JetStream inbox's figures: counters from KV, pending and dead-lettered counts from the
 * streams' per-subject message counts (one subject per Integration), the oldest pending delivery
 * from the first message on its subject (a work queue keeps only unacknowledged messages).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { InboxDelivery } from '../../api/inbox.ts';
import type { IntakeIntegrationStats } from '../../api/webhook.ts';
import { firstRecentBucket, sortRows, statsRow } from './figures.ts';
import type { CasStore, CountsDoc } from './jetstream-state.ts';

/** The inbox's two streams. */
export interface StreamNames {
  /** Pending deliveries, `<stream>.in.<uid>`. */
  stream: string;
  /** Dead letters, `<stream>.dead.<uid>`. */
  dead: string;
}

async function subjectCounts(jsm: JetStreamManager, stream: string, filter: string) {
  const info = await jsm.streams.info(stream, { subjects_filter: filter });
  return info.state.subjects ?? {};
}

async function oldestPending(jsm: JetStreamManager, names: StreamNames, uid: string) {
  const next_by_subj = `${names.stream}.in.${uid}`;
  const msg = await jsm.direct.getMessage(names.stream, { seq: 0, next_by_subj });
  return msg === null ? undefined : msg.json<InboxDelivery>().receivedAt;
}

function recent(doc: CountsDoc, now: number): [number, number] {
  const first = firstRecentBucket(now);
  let accepted = 0;
  let rejected = 0;
  for (const [bucket, [a, r]] of Object.entries(doc.recent)) {
    if (Number(bucket) < first) continue;
    accepted += a;
    rejected += r;
  }
  return [accepted, rejected];
}

/** The stats rows of every Integration the store holds counters for. */
export async function collectStats(
  jsm: JetStreamManager,
  state: CasStore,
  names: StreamNames,
  now: number,
): Promise<IntakeIntegrationStats[]> {
  const [uids, pending, dead] = await Promise.all([
    state.keys('counts'),
    subjectCounts(jsm, names.stream, `${names.stream}.in.>`),
    subjectCounts(jsm, names.dead, `${names.stream}.dead.>`),
  ]);
  const rows = await Promise.all(
    uids.map(async (uid) => {
      const doc = await state.read<CountsDoc>(`counts.${uid}`);
      if (doc === undefined) return undefined;
      const waiting = pending[`${names.stream}.in.${uid}`] ?? 0;
      const [recentAccepted, recentRejected] = recent(doc, now);
      return statsRow({
        integration: { uid, namespace: doc.namespace, name: doc.name },
        ...doc,
        pending: waiting,
        deadLettered: dead[`${names.stream}.dead.${uid}`] ?? 0,
        recentAccepted,
        recentRejected,
        oldestPendingTime: waiting > 0 ? await oldestPending(jsm, names, uid) : undefined,
        lastHandledRedriveRequest: await state.read<string>(`redrive.${uid}`),
      });
    }),
  );
  return sortRows(rows.filter((row) => row !== undefined));
}
