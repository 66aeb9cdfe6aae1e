/**
 * `kubectl tributary version`: this client's build, and the operator's build read from the image
 * of its Deployment (label app.kubernetes.io/component=operator), or `unknown` with the reason.
 */
import { list, session, type FlagValues } from './client.ts';

/** The version of this build (package.json's; a unit test keeps them equal). */
export const CLIENT_VERSION = '0.1.0';

interface Deployment {
  metadata: { name: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

/** The operator's build from its Deployments, or `unknown (why)`. */
export function operatorBuild(deployments: Deployment[]): string {
  const found = deployments.flatMap((deployment) =>
    (deployment.spec?.template?.spec?.containers ?? [])
      .filter((container) => container.image !== undefined)
      .map(
        (container) =>
          `${container.image ?? ''} (deployment ${deployment.metadata.namespace ?? ''}/${deployment.metadata.name})`,
      ),
  );
  if (found.length === 0)
    return 'unknown (no operator Deployment labelled app.kubernetes.io/component=operator)';
  return found.join(', ');
}

/** Prints both builds; the operator part never fails the command. */
export async function version(_args: string[], values: FlagValues): Promise<number> {
  console.log(`client: tributary ${CLIENT_VERSION} (node ${process.version})`);
  let operator: string;
  try {
    const s = session(values);
    operator = operatorBuild(
      await list<Deployment>(s, '/apis/apps/v1/deployments', {
        labelSelector: 'app.kubernetes.io/name=tributary,app.kubernetes.io/component=operator',
      }),
    );
  } catch (error) {
    operator = `unknown (${error instanceof Error ? error.message : String(error)})`;
  }
  console.log(`operator: ${operator}`);
  return 0;
}
