/**
 * Who asked the API server what, from its audit log: the scale benchmark's policy logs every
 * request of the two sides at Metadata level, and this counts them per side, verb and time
 * window. The CronJob side is the controller's ServiceAccount (its writes and own reads, with
 * `--use-service-account-credentials`) plus its controller manager's shared informers, which
 * authenticate as `system:kube-controller-manager` with the token of that process alone (uid
 * `cronjob-controller-manager-uid`, dev/cluster/components.ts), not the main controller
 * manager's.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** The operator's user (its ServiceAccount, manifests/install.yaml). */
export const OPERATOR_USER = 'system:serviceaccount:tributary-system:tributary-operator';
/** The CronJob controller's user. */
export const CRONJOB_USER = 'system:serviceaccount:kube-system:cronjob-controller';
const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
const CRONJOB_MANAGER_UID = 'cronjob-controller-manager-uid';

/** The audit policy: the two sides' requests at Metadata level, nothing else. */
export const SCALE_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["${OPERATOR_USER}", "${CRONJOB_USER}", "${CONTROLLER_MANAGER_USER}"]
- level: None
`;

/** A side of the comparison. */
export type Side = 'tributary' | 'cronjob';

/** One request of one side. */
export interface AuditRequest {
  side: Side;
  verb: string;
  resource: string;
  /** The object's name, when the request names one (a create too: the API server fills it in). */
  name?: string;
  /** When the API server received it, ms epoch. */
  atMs: number;
  /** When it answered (a watch: when it started streaming), ms epoch. */
  doneMs: number;
}

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Whether `verb` changes something. */
export function isMutating(verb: string): boolean {
  return MUTATING.has(verb);
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  objectRef?: { resource?: string; subresource?: string; name?: string };
  user?: { username?: string; uid?: string };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

function sideOf(user: AuditEvent['user']): Side | undefined {
  if (user?.username === OPERATOR_USER) return 'tributary';
  if (user?.username === CRONJOB_USER) return 'cronjob';
  if (user?.username === CONTROLLER_MANAGER_USER && user.uid === CRONJOB_MANAGER_UID)
    return 'cronjob';
  return undefined;
}

/** One request per event: a watch when it starts streaming, anything else when it completes. */
function requestOf(event: AuditEvent): AuditRequest | undefined {
  const side = sideOf(event.user);
  if (side === undefined || event.verb === undefined) return undefined;
  const counted = event.verb === 'watch' ? 'ResponseStarted' : 'ResponseComplete';
  if (event.stage !== counted) return undefined;
  const resource = [event.objectRef?.resource, event.objectRef?.subresource]
    .filter(Boolean)
    .join('/');
  return {
    side,
    verb: event.verb,
    resource,
    ...(event.objectRef?.name ? { name: event.objectRef.name } : {}),
    atMs: Date.parse(event.requestReceivedTimestamp ?? event.stageTimestamp ?? ''),
    doneMs: Date.parse(event.stageTimestamp ?? ''),
  };
}

/** Reads the audit log as it grows: each call parses only the bytes new since the last one. */
export class AuditLog {
  readonly #path: string;
  readonly #requests: AuditRequest[] = [];
  #offset = 0;

  constructor(path: string) {
    this.#path = path;
  }

  /** Every request logged so far. */
  requests(): readonly AuditRequest[] {
    if (!existsSync(this.#path)) return this.#requests;
    const size = statSync(this.#path).size;
    if (size <= this.#offset) return this.#requests;
    const fd = openSync(this.#path, 'r');
    try {
      const bytes = Buffer.alloc(size - this.#offset);
      const read = readSync(fd, bytes, 0, bytes.length, this.#offset);
      const whole = bytes.subarray(0, read).lastIndexOf(0x0a) + 1;
      this.#offset += whole;
      for (const line of bytes.subarray(0, whole).toString('utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        const request = requestOf(JSON.parse(line) as AuditEvent);
        if (request !== undefined) this.#requests.push(request);
      }
    } finally {
      closeSync(fd);
    }
    return this.#requests;
  }

  /** The requests of `side` received in [fromMs, toMs). */
  between(side: Side, fromMs: number, toMs: number): AuditRequest[] {
    return this.requests().filter((r) => r.side === side && r.atMs >= fromMs && r.atMs < toMs);
  }
}

/** Counts of a set of requests: mutating, reads, and per `verb resource` (for the JSON). */
export function tally(requests: readonly AuditRequest[]): {
  mutating: number;
  reads: number;
  byVerb: Record<string, number>;
} {
  const byVerb: Record<string, number> = {};
  let mutating = 0;
  for (const r of requests) {
    const key = `${r.verb} ${r.resource}`;
    byVerb[key] = (byVerb[key] ?? 0) + 1;
    if (isMutating(r.verb)) mutating++;
  }
  return { mutating, reads: requests.length - mutating, byVerb };
}
