/**
 * Kubernetes `$(VAR)` expansion, ported from k8s.io/kubernetes third_party/forked/golang/expansion:
 * `$(NAME)` becomes the value when NAME is defined and stays verbatim otherwise, `$$` is an
 * escaped `$`, and any other `$` is copied as is.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const { text, isVariable, advance } = readVariableName(input.slice(cursor + 1));
    out += isVariable ? (lookup(text) ?? `$(${text})`) : text;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function readVariableName(input: string): { text: string; isVariable: boolean; advance: number } {
  const first = input[0];
  if (first === '$') return { text: '$', isVariable: false, advance: 1 };
  if (first === '(') {
    const close = input.indexOf(')', 1);
    if (close >= 0) return { text: input.slice(1, close), isVariable: true, advance: close + 1 };
    return { text: '$(', isVariable: false, advance: 1 };
  }
  return { text: `$${first ?? ''}`, isVariable: false, advance: 1 };
}
