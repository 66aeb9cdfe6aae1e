/**
 * The plan of an Integration that fails validation after admission (a CRD older than the
 * operator, a hand-edited object): the same status path as any other plan, with one cause,
 * InvalidObject, and nothing else read from a spec that cannot be trusted. Pure.
 */
import type { IntegrationStatus } from '../../api/index.ts';
import { plannedEvents } from './events.ts';
import type { Plan } from './plan.ts';
import { summarize } from './summary.ts';

/** What is read from an object that failed validation: only what the API server guarantees. */
export interface UnreadableIntegration {
  /** metadata.generation, stamped on the conditions and observedGeneration. */
  metadata: { generation?: number | undefined };
  /** The status as stored. */
  status?: IntegrationStatus | undefined;
}

/** Stalled/InvalidSpec naming the first errors; the rest of status stays as it was. */
export function planInvalid(object: UnreadableIntegration, errors: string[], now: Date): Plan {
  const previous = object.status ?? {};
  const summary = summarize({
    previous: previous.conditions,
    context: { generation: object.metadata.generation, now },
    causes: [{ kind: 'InvalidObject', errors }],
  });
  const status: IntegrationStatus = {
    ...previous,
    observedGeneration: object.metadata.generation ?? 0,
    conditions: summary.conditions,
  };
  const applied = { sync: undefined, drift: undefined, start: undefined, replace: undefined };
  return {
    status,
    prune: [],
    events: plannedEvents({ previous, status, finished: [], applied, missed: 0 }),
    missed: 0,
    finished: [],
  };
}
