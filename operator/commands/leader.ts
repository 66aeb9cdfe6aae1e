/**
 * Whether `tributary operator` runs with leader election, from where it runs: in a cluster it
 * campaigns for the Lease (default on); outside one (a laptop against the current kubeconfig) it
 * campaigns only when a lease namespace is known.
 */

/** What the decision reads. */
export interface LeaderInputs {
  /** --leader-elect / LEADER_ELECT, when given. */
  explicit: boolean | undefined;
  /** KUBERNETES_SERVICE_HOST is set and the service-account token exists. */
  inCluster: boolean;
  /** --lease-namespace / POD_NAMESPACE. */
  leaseNamespace: string | undefined;
  /** The namespace of the kubeconfig's current context, if it names one. */
  contextNamespace: string | undefined;
  leaseName: string;
}

/** The decision and the first log line that says it. */
export interface LeaderDecision {
  leaderElection: boolean;
  leaseNamespace: string | undefined;
  message: string;
}

/** Leader election on or off, and why. */
export function leaderDecision(inputs: LeaderInputs): LeaderDecision {
  const namespace =
    inputs.leaseNamespace ?? (inputs.inCluster ? undefined : inputs.contextNamespace);
  const on = (why: string): LeaderDecision => ({
    leaderElection: true,
    leaseNamespace: namespace,
    message: `leader election on: lease ${namespace ?? '?'}/${inputs.leaseName}${why}`,
  });
  const off = (why: string): LeaderDecision => ({
    leaderElection: false,
    leaseNamespace: namespace,
    message: `leader election off: ${why}`,
  });
  if (inputs.explicit === false) return off('--leader-elect=false');
  if (inputs.explicit === true || inputs.inCluster) return on('');
  if (namespace !== undefined) {
    return on(inputs.leaseNamespace === undefined ? ' (namespace of the kubeconfig context)' : '');
  }
  return off('running outside a cluster with no lease namespace');
}
