/**
 * Fault injection for crash tests (TRIBUTARY_FAULT_INJECTION=crash-after-job-create): a decorator
 * of the writes port that dies right after a Job was created and before status could be
 * written, the window the deterministic Job name protects. Test-only; off unless asked for.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { IntegrationStatus } from '../../api/index.ts';
import type { ReconcileContext } from '../machinery/controller.ts';
import type { PlannedEvent } from './plan.ts';
import type { IntegrationWrites, ObjectRef } from './ports.ts';

/** Options of {@link CrashAfterJobCreate}. */
export interface CrashAfterJobCreateOptions {
  /** Ends the process without cleanup. Default: flush `ctx.log`, then SIGKILL this process. */
  crash?: (ctx: ReconcileContext) => void;
}

/** {@link IntegrationWrites} that crash the process once `createJob` reports `created`. */
export class CrashAfterJobCreate implements IntegrationWrites {
  readonly #inner: IntegrationWrites;
  readonly #crash: (ctx: ReconcileContext) => void;

  /** Wraps `inner`; every call but the crash is passed through unchanged. */
  constructor(inner: IntegrationWrites, options: CrashAfterJobCreateOptions = {}) {
    this.#inner = inner;
    this.#crash = options.crash ?? killSelf;
  }

  async createJob(job: V1Job, ctx: ReconcileContext): Promise<'created' | 'exists'> {
    const outcome = await this.#inner.createJob(job, ctx);
    if (outcome === 'created') {
      ctx.log.warn({ job: job.metadata?.name }, 'fault injection: crashing after Job creation');
      this.#crash(ctx);
    }
    return outcome;
  }

  deleteJob(namespace: string, name: string, ctx: ReconcileContext): Promise<void> {
    return this.#inner.deleteJob(namespace, name, ctx);
  }

  getJob(namespace: string, name: string, ctx: ReconcileContext): Promise<V1Job | undefined> {
    return this.#inner.getJob(namespace, name, ctx);
  }

  updateStatus(object: ObjectRef, status: IntegrationStatus, ctx: ReconcileContext): Promise<void> {
    return this.#inner.updateStatus(object, status, ctx);
  }

  recordEvent(object: ObjectRef, event: PlannedEvent, ctx: ReconcileContext): Promise<void> {
    return this.#inner.recordEvent(object, event, ctx);
  }
}

function killSelf(ctx: ReconcileContext): void {
  ctx.log.flush();
  process.kill(process.pid, 'SIGKILL');
}
