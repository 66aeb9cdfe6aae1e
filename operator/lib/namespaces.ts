/** The namespaces the operator watches, from WATCH_NAMESPACE / --namespace. */
import { isDnsLabel } from '../api/index.ts';

/** `a, b,,c` → [a, b, c]; throws naming a value that cannot be a namespace. */
export function namespaceList(value: string | undefined): string[] {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const invalid = names.filter((name) => !isDnsLabel(name));
  if (invalid.length > 0) {
    throw new Error(
      `WATCH_NAMESPACE (--namespace): ${invalid.map((n) => JSON.stringify(n)).join(', ')} is not a namespace name`,
    );
  }
  return [...new Set(names)];
}
