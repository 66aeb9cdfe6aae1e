import type { V1Node, V1NodeStatus } from '@kubernetes/client-node';
import { LOOPBACK_IP } from './env.ts';

/** Capacity and allocatable of the process node (what the scheduler and quota would see). */
export const NODE_RESOURCES = {
  cpu: '16',
  memory: '64Gi',
  pods: '256',
  'ephemeral-storage': '100Gi',
};

/** The labels every node carries, as the kubelet sets them. */
export function nodeLabels(nodeName: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
  };
}

/** The Node object to create: labelled, untainted, schedulable. */
export function nodeObject(nodeName: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName, labels: nodeLabels(nodeName) },
    spec: { taints: [] },
  };
}

/** A Ready node status: capacity, addresses, nodeInfo, and the kubelet endpoint port (0: none). */
export function readyNodeStatus(nodeName: string, now: Date, kubeletPort: number): V1NodeStatus {
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    capacity: { ...NODE_RESOURCES },
    allocatable: { ...NODE_RESOURCES },
    conditions: [
      condition(
        'MemoryPressure',
        'False',
        'KubeletHasSufficientMemory',
        'kubelet has sufficient memory available',
      ),
      condition(
        'DiskPressure',
        'False',
        'KubeletHasNoDiskPressure',
        'kubelet has no disk pressure',
      ),
      condition(
        'PIDPressure',
        'False',
        'KubeletHasSufficientPID',
        'kubelet has sufficient PID available',
      ),
      condition('Ready', 'True', 'KubeletReady', 'process node is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: LOOPBACK_IP },
      { type: 'Hostname', address: nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
    nodeInfo: {
      machineID: nodeName,
      systemUUID: nodeName,
      bootID: nodeName,
      kernelVersion: 'process-node',
      osImage: 'Tributary process node',
      containerRuntimeVersion: 'process://1.0.0',
      kubeletVersion: 'v1.34.4',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}
