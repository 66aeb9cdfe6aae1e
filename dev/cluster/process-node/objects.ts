import type { V1Pod } from '@kubernetes/client-node';

/** Decoded data of one Secret or ConfigMap (`data` and `binaryData` merged); absent when not found. */
export type ObjectData = Readonly<Record<string, Buffer>>;

/** The Secrets and ConfigMaps a pod refers to, fetched once before starting it. */
export interface PodObjects {
  /** Secret name → data, or undefined when the Secret does not exist. */
  secrets: ReadonlyMap<string, ObjectData | undefined>;
  /** ConfigMap name → data, or undefined when the ConfigMap does not exist. */
  configMaps: ReadonlyMap<string, ObjectData | undefined>;
  /** Service-account token per projected source, keyed by `serviceAccountTokenKey`. */
  serviceAccountTokens: ReadonlyMap<string, string>;
}

/** What a pod refers to and must be fetched before it can start. */
export interface PodReferences {
  secrets: Set<string>;
  configMaps: Set<string>;
  /** Projected service-account token requests, keyed by `serviceAccountTokenKey`. */
  tokens: Map<string, { audience?: string; expirationSeconds: number }>;
}

/** Key under which a projected token for `audience` is stored in `PodObjects`. */
export function serviceAccountTokenKey(audience: string | undefined): string {
  return audience ?? '';
}

/** Every Secret, ConfigMap and projected token that a pod's env, envFrom and volumes name. */
export function podReferences(pod: V1Pod): PodReferences {
  const refs: PodReferences = { secrets: new Set(), configMaps: new Set(), tokens: new Map() };
  for (const container of pod.spec?.containers ?? []) {
    for (const source of container.envFrom ?? []) {
      if (source.secretRef) refs.secrets.add(source.secretRef.name ?? '');
      if (source.configMapRef) refs.configMaps.add(source.configMapRef.name ?? '');
    }
    for (const variable of container.env ?? []) {
      const from = variable.valueFrom;
      if (from?.secretKeyRef) refs.secrets.add(from.secretKeyRef.name ?? '');
      if (from?.configMapKeyRef) refs.configMaps.add(from.configMapKeyRef.name ?? '');
    }
  }
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.secret) refs.secrets.add(volume.secret.secretName ?? '');
    if (volume.configMap) refs.configMaps.add(volume.configMap.name ?? '');
    for (const source of volume.projected?.sources ?? []) {
      if (source.secret) refs.secrets.add(source.secret.name ?? '');
      if (source.configMap) refs.configMaps.add(source.configMap.name ?? '');
      const token = source.serviceAccountToken;
      if (token) {
        refs.tokens.set(serviceAccountTokenKey(token.audience), {
          ...(token.audience === undefined ? {} : { audience: token.audience }),
          expirationSeconds: token.expirationSeconds ?? 3600,
        });
      }
    }
  }
  return refs;
}

/** Decodes a Secret's base64 `data` or a ConfigMap's `data` + base64 `binaryData`. */
export function decodeObjectData(
  text: Readonly<Record<string, string>> | undefined,
  base64: Readonly<Record<string, string>> | undefined,
): ObjectData {
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(text ?? {})) data[key] = Buffer.from(value, 'utf8');
  for (const [key, value] of Object.entries(base64 ?? {})) data[key] = Buffer.from(value, 'base64');
  return data;
}
