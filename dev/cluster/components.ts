/**
 * The optional components of a local cluster — kube-scheduler, a CronJob-only
 * kube-controller-manager, kwok — with the identity each authenticates as, and
 * {@link startComponents}, which starts the ones a cluster's options ask for. Each gets a static
 * token of its own (the API server's token file), so an audit log tells their requests apart.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Binaries } from './binaries.ts';
import type { ClusterClient } from './cluster.ts';
import {
  startCronJobController,
  type CronJobController,
  type CronJobControllerOptions,
} from './cronjob-controller.ts';
import { startKwok, type KwokFleet, type KwokOptions } from './kwok.ts';
import type { Daemon } from './processes.ts';
import { startScheduler, type Scheduler } from './scheduler.ts';

/**
 * Who each component is. The scheduler and the controller manager are the users the API server's
 * bootstrap RBAC binds (`system:kube-scheduler`, `system:kube-controller-manager`); the controller
 * manager's controllers then run as their own ServiceAccounts (`--use-service-account-credentials`:
 * the CronJob controller is `system:serviceaccount:kube-system:cronjob-controller`). kwok plays
 * every fake node's kubelet at once, so it is an admin (group system:masters) under its own name.
 */
export const COMPONENT_IDENTITIES = {
  'kube-scheduler': { user: 'system:kube-scheduler', groups: [] },
  'cronjob-controller-manager': { user: 'system:kube-controller-manager', groups: [] },
  kwok: { user: 'kwok-controller', groups: ['system:masters'] },
} as const satisfies Record<string, { user: string; groups: readonly string[] }>;

/** A component with an identity of its own. */
export type ComponentName = keyof typeof COMPONENT_IDENTITIES;

/** A fresh random token per component. */
export type ComponentTokens = Record<ComponentName, string>;

/** New random tokens, one per component. */
export function componentTokens(): ComponentTokens {
  const token = () => randomBytes(24).toString('hex');
  return { 'kube-scheduler': token(), 'cronjob-controller-manager': token(), kwok: token() };
}

/**
 * The API server's `--token-auth-file` (lines of `token,user,uid,"groups"`): `adminToken` in
 * group system:masters, then each component's token.
 */
export function tokenFile(adminToken: string, tokens: ComponentTokens): string {
  const components = Object.entries(COMPONENT_IDENTITIES).map(([name, { user, groups }]) => {
    const groupField = groups.length === 0 ? '' : `,"${groups.join(',')}"`;
    return `${tokens[name as ComponentName]},${user},${name}-uid${groupField}`;
  });
  return [`${adminToken},admin,admin-uid,"system:masters"`, ...components, ''].join('\n');
}

/** What a cluster's options ask of the optional components. */
export interface ComponentOptions {
  /** Run kube-scheduler (scheduler.ts). Default: false. */
  scheduler?: boolean;
  /** Run kwok with this many fake Nodes (kwok.ts). Default: none. */
  kwok?: KwokOptions;
  /**
   * Run the CronJob controller in a second kube-controller-manager with this budget
   * (cronjob-controller.ts); the main one then runs no `cronjob-controller`. Default: none.
   */
  cronJobController?: CronJobControllerOptions;
}

/** The optional components that run, each undefined when not asked for. */
export interface Components {
  /** kube-scheduler, when {@link ComponentOptions.scheduler}. */
  readonly scheduler: Scheduler | undefined;
  /** kwok and its fake Nodes, when {@link ComponentOptions.kwok}. */
  readonly kwok: KwokFleet | undefined;
  /** The CronJob-only controller manager, when {@link ComponentOptions.cronJobController}. */
  readonly cronJobController: CronJobController | undefined;
}

/**
 * Starts the components `options` asks for against a ready API server, each with a kubeconfig of
 * its own identity in `dir`, and resolves once each serves (and kwok's Nodes are Ready). Every
 * daemon is pushed to `daemons` as soon as it is spawned, so the caller stops it, also on failure.
 */
export async function startComponents(
  options: ComponentOptions,
  context: { binaries: Binaries; dir: string; daemons: Daemon[]; tokens: ComponentTokens },
  client: ClusterClient,
): Promise<Components> {
  const { binaries, dir, daemons, tokens } = context;
  const kubeconfig = (name: ComponentName) => {
    const path = join(dir, `${name}.kubeconfig`);
    writeFileSync(path, client.kubeconfigYaml(tokens[name], name), { mode: 0o600 });
    return path;
  };
  const common = (name: ComponentName) => ({ dir, daemons, kubeconfigPath: kubeconfig(name) });
  const scheduler =
    options.scheduler === true
      ? await startScheduler({ ...common('kube-scheduler'), binary: binaries.kubeScheduler })
      : undefined;
  const cronJobController =
    options.cronJobController === undefined
      ? undefined
      : await startCronJobController({
          ...common('cronjob-controller-manager'),
          ...options.cronJobController,
          binary: binaries.kubeControllerManager,
        });
  const kwok =
    options.kwok === undefined
      ? undefined
      : await startKwok(
          {
            ...common('kwok'),
            ...options.kwok,
            binary: binaries.kwok,
            stages: binaries.kwokStages,
          },
          client.kubeConfig,
        );
  return { scheduler, kwok, cronJobController };
}
