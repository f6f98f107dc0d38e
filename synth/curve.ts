/**
 * The mode-connectivity curve of one configuration: the five `tr_err` points (training error along the
 * Bezier curve joining two seeds' models) that reproduce a given mode_connectivity and
 * mode_connectivity_peak through SEMANTICS.md's formulas, and the other 33 arrays of `curve_test.npz`.
 *
 * SEMANTICS.md: mid = (t0 + t4) / 2; u = the first index of the largest |t - mid|; mc = mid - t[u];
 * peak = -max(t1, t2, t3). With P = -peak the interior's highest point is P, so the peak is always exact
 * (peak = -0.0 comes from P = +0.0, as in the real files). For mc, shapes are tried in turn, each with one
 * free point searched float by float until the extractor's own formula gives mc to the bit; the first
 * exact one wins, else the closest:
 * 1. the natural shapes: a barrier (mc < 0, P >= -mc): [m, (m+P)/2, P, (m+P)/2, m] with m = P + mc (u = 2); a dip
 *    or a flat curve (mc >= 0): [m, P, P, P, m] with m = P + mc (u = 1; u = 0 and mc = +0 when flat).
 *    These hit every published value, but only when P + mc is itself a double.
 * 2. an end farthest from mid (u = 0): [U, P, P, P, L] for mc < 0, [L, P, P, P, U] for mc > 0, where
 *    L <= P <= U and U - L = 2|mc|. With L = 0 (possible when P <= 2|mc|) this is exact for every mc;
 *    otherwise L is put just below a power of two in [P - 2|mc|, P], where doubles are finest.
 * Errors stay non-negative whenever P >= 0, as a training error must.
 */
import { modeConnectivity } from '../dataset/checkpoint-metrics.js';
import { NpArray, NpDtype } from '../formats/index.js';
import { solveMonotone, stepFloat } from './float-search.js';
import type { Rng } from './prng.js';

export interface TrErrFit {
  trErr: number[];
  /** Both metrics come out bit for bit. */
  exact: boolean;
  /** What the extractor computes from `trErr`: [mode_connectivity, mode_connectivity_peak]. */
  achieved: [number, number];
}

/** SEMANTICS.md's two metrics of a curve, as the extractor computes them. */
export function curveMetrics(trErr: readonly number[]): [number, number] {
  return modeConnectivity({ values: trErr, f32: false });
}

const same = (a: number, b: number) => Object.is(a, b) || (a === b && a !== 0);

/**
 * tr_err points giving `mc` and `peak`. NaN: numpy's argmax and max make both metrics NaN as soon as an
 * interior point is NaN, so a NaN peak makes the whole curve NaN (and mc NaN with it); a NaN mc with a
 * finite peak comes from NaN ends: [NaN, P, P, P, NaN].
 */
export function trErrFor(mc: number, peak: number): TrErrFit {
  if (Number.isNaN(mc) || Number.isNaN(peak)) {
    const trErr = Number.isNaN(peak) ? [NaN, NaN, NaN, NaN, NaN] : [NaN, -peak, -peak, -peak, NaN];
    const achieved = curveMetrics(trErr);
    return { trErr, exact: Object.is(achieved[0], mc) && Object.is(achieved[1], peak), achieved };
  }
  const P = -peak;
  if (mc === 0) return result([P, P, P, P, P], mc, peak);
  let best: TrErrFit | undefined;
  for (const shape of shapesFor(mc, P)) {
    const fit = fitShape(shape, mc, peak);
    if (fit.exact) return fit;
    if (!best || Math.abs(fit.achieved[0] - mc) < Math.abs(best.achieved[0] - mc)) best = fit;
  }
  return best!;
}

/** A curve shape with one free point x; `decreasing`: mc falls as x grows. */
interface Shape {
  build(x: number): number[];
  start: number;
  decreasing?: boolean;
}

function* shapesFor(mc: number, P: number): Generator<Shape> {
  // A barrier higher than the ends' errors would need negative ends: an end is the farthest point then.
  if (mc < 0) {
    if (P < 0 || P + mc >= 0) yield { build: (m) => [m, (m + P) / 2, P, (m + P) / 2, m], start: P + mc };
  } else yield { build: (m) => [m, P, P, P, m], start: P + mc };
  const span = 2 * Math.abs(mc);
  const ends = (L: number): Shape =>
    mc < 0 ? { build: (U) => [U, P, P, P, L], start: L + span, decreasing: true } : { build: (U) => [L, P, P, P, U], start: L + span };
  if (P >= 0 && P <= span) yield ends(0);
  // Just below a power of two the doubles are twice as fine as just above it.
  const lowest = P - span;
  for (let p = 2 ** Math.floor(Math.log2(Math.abs(P))), k = 0; P > 0 && p > lowest && k < 64; p /= 2, k++) {
    yield ends(stepFloat(p, -1));
    yield ends(p);
  }
}

function fitShape(shape: Shape, mc: number, peak: number): TrErrFit {
  const sign = shape.decreasing ? -1 : 1;
  const r = solveMonotone((x) => sign * curveMetrics(shape.build(sign * x))[0], sign * mc, sign * shape.start);
  return result(shape.build(sign * r.x), mc, peak);
}

function result(trErr: number[], mc: number, peak: number): TrErrFit {
  const achieved = curveMetrics(trErr);
  return { trErr, exact: same(achieved[0], mc) && same(achieved[1], peak), achieved };
}

/** What the other arrays of `curve_test.npz` are drawn around. */
export interface CurveContext {
  /** Mean test accuracy of the configuration (percent). */
  testAcc: number;
  /** Mean test loss. */
  testLoss: number;
  /** Distance between the two end models (model_dist's scale). */
  distance: number;
  /** Weight-decay term added to nll to give loss (grows with width). */
  regularization: number;
}

/** The member names of `curve_test.npz`, in the order loss_landscape_taxonomy writes them. */
export const CURVE_MEMBERS = [
  'ts', 'dl',
  'tr_loss', 'tr_loss_min', 'tr_loss_max', 'tr_loss_avg', 'tr_loss_int',
  'tr_nll', 'tr_nll_min', 'tr_nll_max', 'tr_nll_avg', 'tr_nll_int',
  'tr_acc',
  'tr_err', 'tr_err_min', 'tr_err_max', 'tr_err_avg', 'tr_err_int',
  'te_loss', 'te_loss_min', 'te_loss_max', 'te_loss_avg', 'te_loss_int',
  'te_nll', 'te_nll_min', 'te_nll_max', 'te_nll_avg', 'te_nll_int',
  'te_acc',
  'te_err', 'te_err_min', 'te_err_max', 'te_err_avg', 'te_err_int',
] as const;

const F8 = new NpDtype('<f8');
const vec = (v: readonly number[]) => new NpArray(F8, [v.length], Float64Array.from(v));
const scalar = (x: number) => new NpArray(F8, [], Float64Array.of(x));

/** numpy's trapz(y, x) for 5 points: pairwise-free (fewer than 8 terms are added in order). */
function trapz(y: readonly number[], x: readonly number[]): number {
  let s = 0;
  for (let i = 1; i < y.length; i++) s += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2.0;
  return s;
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * The 34 arrays of `curve_test.npz` around a given tr_err, in the real member order: ts and dl (the
 * curve's parameter and segment lengths), then for train and test: loss, nll, acc, err, each with its
 * min, max, average and length-weighted integral (trapz over the cumulative length, divided by it), as
 * the curve-evaluation script computes them.
 */
export function curveArrays(trErr: readonly number[], ctx: CurveContext, rng: Rng): Array<[string, NpArray]> {
  const ts = [0, 0.25, 0.5, 0.75, 1];
  const outer = ctx.distance * (0.46 + 0.02 * rng.normal());
  const inner = ctx.distance * (0.28 + 0.01 * rng.normal());
  const dl = [0, outer, inner, inner * (1 + 0.003 * rng.normal()), outer * (1 + 0.003 * rng.normal())];
  const x = dl.reduce<number[]>((acc, d) => [...acc, (acc.at(-1) ?? 0) + d], []);
  // Weight decay's share of the loss is lower in the middle of the curve, as in the real files.
  const reg = ts.map((t) => ctx.regularization * (1 - 0.29 * Math.sin(Math.PI * t)));
  const mid = (trErr[0] + trErr[4]) / 2;
  const testErr = 100 - ctx.testAcc;
  const clampPct = (v: number) => Math.min(100, Math.max(0, v));
  const teErr = trErr.map((t) => clampPct(testErr + 0.8 * (t - mid) + 0.3 * rng.normal()));
  const trNll = trErr.map((t) => Math.max(1e-5, 0.001 + 0.04 * t) * (1 + 0.1 * rng.normal()) ** 2);
  const teNll = teErr.map((e) => Math.max(1e-3, ctx.testLoss + 0.02 * (e - testErr)));
  const trLoss = trNll.map((v, i) => v + reg[i]);
  const teLoss = teNll.map((v, i) => v + reg[i]);

  const out: Array<[string, NpArray]> = [['ts', vec(ts)], ['dl', vec(dl)]];
  const withStats = (name: string, v: readonly number[]) => {
    out.push([name, vec(v)]);
    out.push([`${name}_min`, scalar(Math.min(...v))]);
    out.push([`${name}_max`, scalar(Math.max(...v))]);
    out.push([`${name}_avg`, scalar(mean(v))]);
    out.push([`${name}_int`, scalar(trapz(v, x) / x[x.length - 1])]);
  };
  withStats('tr_loss', trLoss);
  withStats('tr_nll', trNll);
  out.push(['tr_acc', vec(trErr.map((t) => 100 - t))]);
  withStats('tr_err', trErr);
  withStats('te_loss', teLoss);
  withStats('te_nll', teNll);
  out.push(['te_acc', vec(teErr.map((e) => 100 - e))]);
  withStats('te_err', teErr);
  return out;
}
