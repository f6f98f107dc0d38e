import { countText } from '../../util/count-text.js';

describe('countText', () => {
  test('integers as Intl en-US writes them', () => {
    const en = new Intl.NumberFormat('en-US');
    for (const n of [0, 7, 42, 999, 1000, 1690, 3388, 20280, 100000, 999999, 1234567, 13552, -1, -999, -1000, -12345, 2 ** 53 - 1]) {
      expect([n, countText(n)]).toEqual([n, en.format(n)]);
    }
  });
  test('anything else as String writes it', () => {
    expect([1.5, NaN, Infinity].map(countText)).toEqual(['1.5', 'NaN', 'Infinity']);
  });
});
