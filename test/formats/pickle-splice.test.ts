/**
 * `spliceDictItems` on dicts whose items share strs first memoised by any item (so later items' memo gets
 * point into replaced items, and at indices that move): the result is the whole writer's bytes, or null;
 * never other bytes. Counts the splices that applied, so one that always bails out fails.
 */
import { spliceDictItems } from '../../formats/pickle/splice.js';
import { PyStream, writePickle, type PickleMemo, type PickleSink } from '../../formats/pickle/writer.js';
import { prng } from '../helpers/prng.js';

type Item = { key: string; value: (string | number | null)[] | null };

const write = (w: PickleSink, item: Item): void => {
  w.str(item.key);
  if (item.value === null) return w.value(null);
  w.list(item.value.length);
  for (const v of item.value) {
    if (typeof v === 'string') w.str(v);
    else w.value(v);
    w.item();
  }
};

/** The pickle of the dict, and where its first item starts and the memo there. */
function pickle(items: Item[]): { bytes: Uint8Array; at: number; memo: PickleMemo } {
  let at = 0;
  let memo: PickleMemo | undefined;
  const bytes = writePickle(new PyStream((w) => {
    w.dict(items.length);
    memo = w.memo();
    at = w.offset();
    for (const item of items) {
      write(w, item);
      w.item();
    }
  }));
  return { bytes, at, memo: memo! };
}

test('items sharing strs: the whole writer\'s bytes or null, mostly the bytes', () => {
  const r = prng(11);
  const pool = ['alpha', 'beta', 'gamma', 'delta', 'x', 'é', 'zeta', 'eta'];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const item = (i: number): Item => ({
    key: `k${i}`,
    // Lists of 2+ items (1-item lists end with an APPEND at the dict's level: null), None, strs, ints.
    value: r() < 0.2 ? null : Array.from({ length: 2 + Math.floor(r() * 4) }, () => (r() < 0.7 ? pick(pool) : Math.floor(r() * 300))),
  });
  let applied = 0;
  for (let trial = 0; trial < 300; trial++) {
    const size = pick([2, 3, 10, 300, 1001]);
    const items = Array.from({ length: size }, (_, i) => item(i));
    const old = pickle(items);
    const next = [...items];
    const replace = new Map<number, (w: PickleSink) => void>();
    for (let c = 0; c < 1 + Math.floor(r() * 3); c++) {
      const i = Math.floor(r() * size);
      next[i] = item(i);
      replace.set(i, (w) => write(w, next[i]));
    }
    const got = spliceDictItems(old.bytes, { at: old.at, memo: old.memo, size, replace });
    const expected = pickle(next).bytes;
    if (got !== null) applied++;
    expect({ trial, same: got === null || Buffer.from(got).equals(Buffer.from(expected)) }).toEqual({ trial, same: true });
  }
  expect(applied).toBeGreaterThan(150);
});
