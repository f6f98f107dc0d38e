/**
 * The parse task's packed codec: what it decodes is what was encoded, field for field and bit for bit
 * (NaN, -0, infinities), in the same key order as the task builds it, and it refuses other shapes.
 */
import v8 from 'node:v8';
import { decodeCheckpoint, encodeCheckpoint, PARSE_CODEC_ID } from '../../dataset/parse-codec.js';
import { METRIC_NAMES, type Metrics } from '../../dataset/metrics.js';

const metrics = (values: number[]): Metrics => Object.fromEntries(METRIC_NAMES.map((name, k) => [name, values[k]])) as Metrics;

const samples = [
  { coords: { bs: 16, width: 2, data: '10' }, metrics: metrics([0.5, 1.25, 0.9, 0.1, 3e5, -2.5e-7, 0.01, 7, 0.33, 0.4, 12.5]), seeds: 3, absent: [] },
  {
    coords: { bs: 1024, width: 64, data: 'noisy ü 50%' },
    metrics: metrics([NaN, -0, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, NaN, 0, 1, 2, 3]),
    seeds: 0,
    absent: ['hessian.pkl', 'model_dist.pkl'],
    notes: ['seed counts differ between files (loss_acc.pkl: 3, hessian.pkl: 2)', 'a second note'],
  },
];

describe('parse codec', () => {
  it.each(samples.map((s, k) => [k, s]))('sample %i round-trips exactly, as v8 serialisation would', (_, sample) => {
    const decoded = decodeCheckpoint(encodeCheckpoint(sample));
    expect(v8.serialize(decoded).equals(v8.serialize(sample))).toBe(true);
    expect(Object.is(decoded.metrics.test_loss, sample.metrics.test_loss)).toBe(true);
    expect(Object.keys(decoded)).toEqual(Object.keys(sample));
  });

  it('is smaller than the v8 form, and reads from a view into a larger buffer', () => {
    const bytes = encodeCheckpoint(samples[0]);
    expect(bytes.length).toBeLessThan(v8.serialize(samples[0]).length / 2);
    const padded = new Uint8Array(bytes.length + 16);
    padded.set(bytes, 8);
    expect(decodeCheckpoint(padded.subarray(8, 8 + bytes.length))).toEqual(samples[0]);
  });

  it('refuses values of another shape, and bytes of another layout', () => {
    expect(() => encodeCheckpoint({ coords: samples[0].coords, metrics: { test_acc: 1 }, seeds: 1, absent: [] })).toThrow(/metrics must be exactly/);
    expect(() => encodeCheckpoint({ ...samples[0], absent: ['x.pkl'] })).toThrow(/unknown absent file "x.pkl"/);
    expect(() => encodeCheckpoint(42)).toThrow(/not a parsed checkpoint/);
    const bytes = encodeCheckpoint(samples[0]);
    bytes[0] = 99;
    expect(() => decodeCheckpoint(bytes)).toThrow(/layout 99/);
    expect(PARSE_CODEC_ID).toBe('parse-packed-1');
  });
});
