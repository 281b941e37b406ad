import { describe, expect, it } from 'vitest';
import { createMicroBatcher } from './micro-batcher.ts';

/** A batch runner whose batches finish only when the test says so. */
function controlledRunner() {
  const batches: string[][] = [];
  const finishers: Array<() => void> = [];
  return {
    batches,
    finishNext: async () => {
      finishers.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    run: (items: string[]) => {
      batches.push(items);
      return new Promise<Array<PromiseSettledResult<string>>>((resolve) =>
        finishers.push(() => resolve(items.map((item) => (item.startsWith('bad') ? { status: 'rejected', reason: new Error(item) } : { status: 'fulfilled', value: item.toUpperCase() })))),
      );
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('micro-batcher', () => {
  it('starts at once when idle, then gathers what arrives meanwhile into the next batch', async () => {
    const runner = controlledRunner();
    const submit = createMicroBatcher({ run: runner.run, keyOf: (s: string) => s, maxBatch: 10, maxInFlight: 1 });
    const first = submit('a');
    await tick();
    expect(runner.batches).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map(submit);
    await tick();
    expect(runner.batches).toHaveLength(1);
    await runner.finishNext();
    expect(runner.batches[1]).toEqual(['b', 'c', 'd']);
    await runner.finishNext();
    expect(await first).toBe('A');
    expect(await Promise.all(rest)).toEqual(['B', 'C', 'D']);
  });

  it('never puts two items with one key in a batch, caps batch size and batches in flight', async () => {
    const runner = controlledRunner();
    const submit = createMicroBatcher({ run: runner.run, keyOf: (s: string) => s.split('#')[0]!, maxBatch: 2, maxInFlight: 2 });
    const all = ['x#1', 'x#2', 'y', 'z', 'w'].map(submit);
    await tick();
    expect(runner.batches).toEqual([['x#1', 'y'], ['x#2', 'z']]);
    await runner.finishNext();
    expect(runner.batches[2]).toEqual(['w']);
    await runner.finishNext();
    await runner.finishNext();
    expect(await Promise.all(all)).toEqual(['X#1', 'X#2', 'Y', 'Z', 'W']);
  });

  it('fails only the callers whose items failed, and every caller when the whole batch throws', async () => {
    const runner = controlledRunner();
    const submit = createMicroBatcher({ run: runner.run, keyOf: (s: string) => s, maxBatch: 10, maxInFlight: 1 });
    const outcomes = Promise.allSettled(['ok', 'bad-1', 'fine'].map(submit));
    await tick();
    await runner.finishNext();
    expect((await outcomes).map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);

    const failing = createMicroBatcher<string, string>({ run: async () => Promise.reject(new Error('database gone')), keyOf: (s) => s, maxBatch: 10, maxInFlight: 1 });
    const failed = await Promise.allSettled([failing('a'), failing('b')]);
    expect(failed.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect((failed[1] as PromiseRejectedResult).reason).toEqual(new Error('database gone'));
  });
});
