/**
 * The chaos tier's control plane: each file starts its own (it restarts the API server and etcd,
 * which a shared one could not survive for the other files), with the Job audit log of
 * ledger.ts, what ships installed (CRDs, RBAC, the operator's ServiceAccount) and the operator
 * run out of process as that ServiceAccount.
 */
import { startCluster, type Cluster } from '../../../dev/cluster/cluster.ts';
import { defaultImages } from '../../../dev/cluster/images.ts';
import { installOperator, OperatorProcess } from '../../../dev/cluster/operator.ts';
import { waitFor } from '../../../dev/cluster/processes.ts';
import { JOB_AUDIT_POLICY } from './ledger.ts';

/** Starts a control plane with the audit log and installs the operator (0 replicas). */
export async function startChaosCluster(): Promise<Cluster> {
  const started = Date.now();
  const cluster = await startCluster({
    images: defaultImages(),
    auditPolicy: JOB_AUDIT_POLICY,
    keepDir: process.env.TRIBUTARY_KEEP_CLUSTER === '1',
  });
  await installOperator(cluster);
  console.log(`chaos control plane ready in ${Date.now() - started} ms at ${cluster.info.server}`);
  return cluster;
}

/** Starts one operator (leader election on, as installed) and waits for its `/readyz`. */
export async function startReadyOperator(cluster: Cluster): Promise<OperatorProcess> {
  const operator = await OperatorProcess.start(cluster);
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
  return operator;
}
