/**
 * Why a container cannot start yet, as the kubelet reports it in `state.waiting.reason`:
 * - `ErrImagePull`: the image has no local mapping (retried later, the pod stays Pending).
 * - `CreateContainerConfigError`: a Secret, ConfigMap or key that env refers to is missing.
 * - `ContainerCreating`: a volume cannot be set up yet (e.g. its Secret is missing).
 */
export type WaitingReason = 'ErrImagePull' | 'CreateContainerConfigError' | 'ContainerCreating';

/** A container (or the whole pod) cannot start yet; retried on the next resync. */
export class StartProblem extends Error {
  /** The waiting reason to report. */
  readonly reason: WaitingReason;

  /** `message` is shown in the container status, so it must never carry a secret value. */
  constructor(reason: WaitingReason, message: string) {
    super(message);
    this.name = 'StartProblem';
    this.reason = reason;
  }
}
