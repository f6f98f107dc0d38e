import { LABEL_RULES, computeLabels, evaluateLabel, labelsWithMissingNeighbours, type LabelRule } from '../../dataset/labels.js';
import { computeRfi } from '../../dataset/rfi.js';

const rule = (name: string): LabelRule => LABEL_RULES.find((r) => r.name === name)!;
const row = (rfi_inc_temp: number, rfi_dec_temp: number, rfi_width = 0, rfi_data = 0) => ({ rfi_inc_temp, rfi_dec_temp, rfi_width, rfi_data });

describe('label rules', () => {
  test('the three SPEC labels, in column order', () => {
    expect(LABEL_RULES.map((r) => r.name)).toEqual(['bs_failure', 'width_vs_batch', 'data_vs_batch']);
  });

  test('bs_failure: inc-temp vs dec-temp', () => {
    expect(evaluateLabel(rule('bs_failure'), row(2, 1))).toBe('small');
    expect(evaluateLabel(rule('bs_failure'), row(1, 2))).toBe('large');
    expect(evaluateLabel(rule('bs_failure'), row(0, 0))).toBe('optimal');
  });

  test('width_vs_batch and data_vs_batch compare against the larger temp improvement', () => {
    expect(evaluateLabel(rule('width_vs_batch'), row(1, 3, 2))).toBe('batch'); // 2 < max(1, 3)
    expect(evaluateLabel(rule('width_vs_batch'), row(3, 1, 4))).toBe('width');
    expect(evaluateLabel(rule('width_vs_batch'), row(1, 3, 3))).toBe('optimal');
    expect(evaluateLabel(rule('data_vs_batch'), row(0, 0, 9, 0.5))).toBe('data');
    expect(evaluateLabel(rule('data_vs_batch'), row(0, 1, 9, 0.5))).toBe('batch');
    expect(evaluateLabel(rule('data_vs_batch'), row(0, 0, 9, 0))).toBe('optimal');
  });

  test('any NaN operand gives an empty label', () => {
    expect(evaluateLabel(rule('bs_failure'), row(NaN, 1))).toBeNull();
    expect(evaluateLabel(rule('bs_failure'), row(1, NaN))).toBeNull();
    expect(evaluateLabel(rule('width_vs_batch'), row(NaN, 5, 9))).toBeNull(); // even though 9 > 5
    expect(evaluateLabel(rule('data_vs_batch'), row(1, 1, 0, NaN))).toBeNull();
  });

  test('a new label is data: a rule object evaluated by the same function', () => {
    const widthVsData: LabelRule = { name: 'width_vs_data', left: 'rfi_width', right: ['rfi_data'], greater: 'width', less: 'data', equal: 'tie' };
    expect(evaluateLabel(widthVsData, row(0, 0, 2, 1))).toBe('width');
    expect(evaluateLabel(widthVsData, row(0, 0, 1, 2))).toBe('data');
    expect(evaluateLabel(widthVsData, row(0, 0, 1, 1))).toBe('tie');
  });
});

describe('labels computed with missing neighbours (issue 14 point 10)', () => {
  // bs 16, 32, 64 on one width and data fraction; T = test_acc along the bs line.
  const axes = { bs: [16, 32, 64], width: [2], data: ['10'] };
  const count = (t: number[]) => {
    const testAcc = Float64Array.from(t);
    const labels = computeLabels(computeRfi(testAcc, axes));
    return { bs_failure: labels.bs_failure, counts: labelsWithMissingNeighbours(testAcc, axes, labels) };
  };

  test('a complete line: SPEC labels, nothing counted', () => {
    expect(count([70, 80, 70])).toEqual({
      bs_failure: ['large', 'optimal', 'small'],
      counts: { bs_failure: 0, width_vs_batch: 0, data_vs_batch: 0 },
    });
  });

  test('the same values beside a missing bs 32: SPEC values kept (optimal where complete data gives large), and counted', () => {
    // bs 16: rfi_inc_temp = 0; rfi_dec_temp = max(70, NaN, 70) - 70 = 0, not 80 - 70: optimal, not large.
    expect(count([70, NaN, 70])).toEqual({
      bs_failure: ['optimal', null, 'optimal'],
      counts: { bs_failure: 2, width_vs_batch: 2, data_vs_batch: 2 },
    });
  });

  test('only neighbours a label ranges over count: a NaN on the width line does not touch bs_failure', () => {
    const wide = { bs: [16, 32], width: [2, 4], data: ['10'] };
    const testAcc = Float64Array.from([70, NaN, 80, 75]); // (bs 16, w 2), (bs 16, w 4), (bs 32, w 2), (bs 32, w 4)
    const labels = computeLabels(computeRfi(testAcc, wide));
    // (bs 16, w 2): inc-width ranges over w 2..4 of bs 16, which holds the NaN; the bs lines are complete
    // for w 2. (bs 32, w 4): inc-width is itself only; its bs line holds the NaN.
    expect(labelsWithMissingNeighbours(testAcc, wide, labels)).toEqual({ bs_failure: 1, width_vs_batch: 2, data_vs_batch: 1 });
  });
});
