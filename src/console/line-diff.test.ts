import { describe, expect, it } from 'vitest';
import { diffLines, withContext } from './line-diff.ts';

const ops = (before: string, after: string) => diffLines(before, after).map((l) => `${l.op[0]}${l.text}`);

describe('diffLines', () => {
  it('marks added, removed and kept lines with their numbers', () => {
    const diff = diffLines('a\nb\nc\n', 'a\nx\nc\nd\n');
    expect(diff).toEqual([
      { op: 'same', text: 'a', oldLine: 1, newLine: 1 },
      { op: 'remove', text: 'b', oldLine: 2 },
      { op: 'add', text: 'x', newLine: 2 },
      { op: 'same', text: 'c', oldLine: 3, newLine: 3 },
      { op: 'add', text: 'd', newLine: 4 },
    ]);
  });

  it('finds the longest common run instead of replacing everything', () => {
    expect(ops('k\na\nb\nc\nk', 'k\nb\nc\nd\nk')).toEqual(['sk', 'ra', 'sb', 'sc', 'ad', 'sk']);
  });

  it('handles empty texts and CRLF', () => {
    expect(ops('', 'a\n')).toEqual(['aa']);
    expect(ops('a\r\nb\r\n', 'a\nb\n')).toEqual(['sa', 'sb']);
    expect(ops('same', 'same')).toEqual(['ssame']);
  });

  it('falls back to remove-then-add past its size bound', () => {
    expect(diffLines('a\nb', 'b\nc', 1).map((l) => l.op)).toEqual(['remove', 'remove', 'add', 'add']);
  });
});

describe('withContext', () => {
  it('keeps changes with their neighbours and marks the gaps', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 10', 'LINE 10');
    const shown = withContext(diffLines(before, after), 1);
    expect(shown.map((l) => (l === null ? '…' : `${l.op[0]}${l.text}`))).toEqual(['sline 9', 'rline 10', 'aLINE 10', 'sline 11']);
    expect(withContext(diffLines(before, before))).toEqual([]);
    const twoChanges = before.replace('line 2', 'L2').replace('line 17', 'L17');
    expect(withContext(diffLines(before, twoChanges), 1)).toContain(null);
  });
});
