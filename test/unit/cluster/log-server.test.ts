import { describe, expect, it } from 'vitest';
import { selectLog } from '../../../dev/cluster/process-node/log-server.ts';

describe('selectLog (the kubelet containerLogs query)', () => {
  const text = Buffer.from('a\nb\nc\n');
  it.each([
    ['everything', undefined, undefined, 'a\nb\nc\n'],
    ['the last two lines', 2, undefined, 'b\nc\n'],
    ['more lines than there are', 9, undefined, 'a\nb\nc\n'],
    ['no line', 0, undefined, ''],
    ['the first three bytes', undefined, 3, 'a\nb'],
    ['tail, then the byte limit', 2, 3, 'b\nc'],
  ])('%s', (_, tailLines, limitBytes, expected) => {
    expect(selectLog(text, tailLines, limitBytes).toString()).toBe(expected);
  });

  it('keeps a last line without its newline', () => {
    expect(selectLog(Buffer.from('a\nb'), 1).toString()).toBe('b\n');
  });
});
