import { LABEL_RULES, evaluateLabel, type LabelRule } from '../../dataset/labels.js';

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
