/**
 * The ReconcilePolicy reconciler: reports whether a policy is valid and how many Integrations
 * use it. The Integrations themselves are re-reconciled by the operator's event mapping.
 */
import {
  ConditionType,
  ReconcilePolicy,
  Reason,
  resolvePolicy,
  validate,
  type ReconcilePolicyStatus,
  resolutionError,
} from '../../api/index.ts';
import type { Clock } from '../../lib/clock.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../machinery/controller.ts';
import { splitKey } from '../../lib/key.ts';
import { setCondition } from '../plan/conditions.ts';
import { planSchedule } from '../plan/schedule.ts';
import { statusChanged } from '../plan/status.ts';

/** Ports of the policy reconciler. */
export interface PolicyPorts {
  /** The policy as cached (unvalidated), or undefined. */
  policy(namespace: string, name: string): unknown;
  /** How many Integrations in `namespace` reference the policy `name`. */
  usedBy(namespace: string, name: string): number;
  /** Replaces the status subresource. */
  updateStatus(
    object: { namespace: string; name: string; resourceVersion?: string | undefined },
    status: ReconcilePolicyStatus,
    ctx: ReconcileContext,
  ): Promise<void>;
}

/** Reconciles ReconcilePolicy status. */
export class PolicyReconciler implements Reconciler {
  readonly #ports: PolicyPorts;
  readonly #clock: Clock;

  /** Stores the ports; no work until reconcile. */
  constructor(ports: PolicyPorts, clock: Clock) {
    this.#ports = ports;
    this.#clock = clock;
  }

  /** Computes and, when it changed, writes the status of one policy. */
  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const raw = this.#ports.policy(namespace, name);
    if (raw === undefined) return {};
    const object = raw as {
      metadata: { generation?: number; resourceVersion?: string };
      status?: ReconcilePolicyStatus;
    };
    const problem = policyProblem(raw);
    const conditions = setCondition(
      object.status?.conditions,
      problem === undefined
        ? {
            type: ConditionType.Ready,
            status: 'True',
            reason: Reason.Succeeded,
            message: 'the policy is valid',
          }
        : {
            type: ConditionType.Ready,
            status: 'False',
            reason: Reason.InvalidSpec,
            message: problem,
          },
      { generation: object.metadata.generation, now: new Date(this.#clock.now()) },
    );
    const status: ReconcilePolicyStatus = {
      observedGeneration: object.metadata.generation ?? 0,
      conditions,
      integrationCount: this.#ports.usedBy(namespace, name),
    };
    if (statusChanged(object.status, status)) {
      await this.#ports.updateStatus(
        { namespace, name, resourceVersion: object.metadata.resourceVersion },
        status,
        ctx,
      );
    }
    return {};
  }
}

/** What is wrong with a policy that admission could not judge, or undefined. */
function policyProblem(raw: unknown): string | undefined {
  const parsed = validate(ReconcilePolicy, raw);
  if (!parsed.ok) return `the policy is invalid: ${parsed.errors.join('; ')}`;
  let policy: ReturnType<typeof resolvePolicy>;
  try {
    policy = resolvePolicy(parsed.value.spec, undefined);
  } catch (error) {
    return `the policy does not resolve: ${resolutionError(error)}`;
  }
  const schedule = planSchedule({
    trigger: policy.sync,
    uid: '',
    createdAt: new Date(0),
    now: new Date(0),
  });
  return schedule.ok ? undefined : schedule.error.message;
}
