/**
 * Fault injection for crash tests, off unless asked for: a decorator of the writes port that
 * kills the process (SIGKILL, nothing released) at the points where a crash is hardest to
 * survive — right after a Job was created and before status records it (the window the
 * deterministic Job name protects), in the middle of a status write (sent, answer unread), and
 * right after a Job was pruned. `TRIBUTARY_FAULT_INJECTION` lists the points (comma-separated),
 * `TRIBUTARY_FAULT_PROBABILITY` is the chance of crashing at each passage (default 1).
 */
import { writeSync } from 'node:fs';
import type { V1Job } from '@kubernetes/client-node';
import type { IntegrationStatus } from '../../api/index.ts';
import type { ReconcileContext } from '../machinery/controller.ts';
import type { PlannedEvent } from './plan.ts';
import type { IntegrationWrites, ObjectRef } from './ports.ts';

/** Where {@link CrashPoints} may crash. */
export const CRASH_POINTS = [
  'crash-after-job-create',
  'crash-mid-status-write',
  'crash-after-job-delete',
] as const;

/** One of {@link CRASH_POINTS}. */
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** The crash points and probability of `TRIBUTARY_FAULT_INJECTION` / `_PROBABILITY`. */
export interface FaultSettings {
  points: readonly CrashPoint[];
  probability: number;
}

/** Reads the fault settings from `env`; unknown point names are ignored. */
export function faultSettings(env: NodeJS.ProcessEnv): FaultSettings {
  const named = (env.TRIBUTARY_FAULT_INJECTION ?? '').split(',').map((p) => p.trim());
  const points = CRASH_POINTS.filter((point) => named.includes(point));
  const probability = Number(env.TRIBUTARY_FAULT_PROBABILITY ?? '1');
  return { points, probability: Number.isFinite(probability) ? probability : 1 };
}

/** Options of {@link CrashPoints}. */
export interface CrashPointsOptions extends FaultSettings {
  /** Ends the process without cleanup. Default: say so on stderr, then SIGKILL this process. */
  crash?: (ctx: ReconcileContext, point: CrashPoint) => void;
  /** Uniform random in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** {@link IntegrationWrites} that crash the process at the configured points. */
export class CrashPoints implements IntegrationWrites {
  readonly #inner: IntegrationWrites;
  readonly #options: CrashPointsOptions;

  /** Wraps `inner`; every call is passed through, then maybe the crash. */
  constructor(inner: IntegrationWrites, options: CrashPointsOptions) {
    this.#inner = inner;
    this.#options = options;
  }

  async createJob(job: V1Job, ctx: ReconcileContext): Promise<'created' | 'exists'> {
    const outcome = await this.#inner.createJob(job, ctx);
    if (outcome === 'created') this.#maybeCrash('crash-after-job-create', ctx, job.metadata?.name);
    return outcome;
  }

  async deleteJob(namespace: string, name: string, ctx: ReconcileContext): Promise<void> {
    await this.#inner.deleteJob(namespace, name, ctx);
    this.#maybeCrash('crash-after-job-delete', ctx, name);
  }

  getJob(namespace: string, name: string, ctx: ReconcileContext): Promise<V1Job | undefined> {
    return this.#inner.getJob(namespace, name, ctx);
  }

  updateStatus(object: ObjectRef, status: IntegrationStatus, ctx: ReconcileContext): Promise<void> {
    const writing = this.#inner.updateStatus(object, status, ctx);
    if (this.#armed('crash-mid-status-write')) {
      // The request is on its way; die before its answer is read.
      const random = this.#options.random ?? Math.random;
      setTimeout(
        () => {
          this.#crash('crash-mid-status-write', ctx, object.name);
        },
        Math.floor(random() * 20),
      );
    }
    return writing;
  }

  forgetEvents(namespace: string, name: string): void {
    this.#inner.forgetEvents(namespace, name);
  }

  recordEvent(object: ObjectRef, event: PlannedEvent, ctx: ReconcileContext): Promise<void> {
    return this.#inner.recordEvent(object, event, ctx);
  }

  #armed(point: CrashPoint): boolean {
    const random = this.#options.random ?? Math.random;
    return this.#options.points.includes(point) && random() < this.#options.probability;
  }

  #maybeCrash(point: CrashPoint, ctx: ReconcileContext, what: string | undefined): void {
    if (this.#armed(point)) this.#crash(point, ctx, what);
  }

  #crash(point: CrashPoint, ctx: ReconcileContext, what: string | undefined): void {
    ctx.log.warn({ point, object: what }, `fault injection: ${point}`);
    (this.#options.crash ?? killSelf)(ctx, point);
  }
}

function killSelf(ctx: ReconcileContext, point: CrashPoint): void {
  ctx.log.flush();
  // The logger may be asynchronous: say why on stderr synchronously, so a test can tell an
  // injected crash from a real one.
  const line = { level: 'warn', time: new Date().toISOString(), msg: `fault injection: ${point}` };
  writeSync(process.stderr.fd, `${JSON.stringify(line)}\n`);
  process.kill(process.pid, 'SIGKILL');
}
