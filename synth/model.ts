/**
 * The built-in model of a collection's metrics, used when no published grid is given: plausible values
 * with the shapes the MD tree paper discusses, deterministic for a given PRNG stream.
 *
 * Per configuration (bs B, width W, data fraction D = data / 10; percentages in %):
 * - test error  = 9 + 30 W^-1/2 + 6 (D^-1/2 - 1) + 2.5 ln(B / B*)^2, with the best batch size
 *   B* = 128 sqrt(D) (so both too small and too large a batch hurt, more so far from B*);
 *   noisy labels add 4 + 8 (W D)^-0.3. Plus noise N(0, 0.25). test_acc = 100 - test error.
 * - train error = max(0, 0.95 test error exp(-r / 8) - 0.1), with the memorisation capacity
 *   r = W^0.9 (256 / B)^0.4 / D (wide nets, small batches and little data memorise the training set:
 *   train_acc reaches 100); noisy labels add 6 (B / 1024)^1/2 W^-0.4 (noisy labels are harder to fit).
 *   Rounded to whole training images, so train_acc > test_acc, and exactly 100 where the error rounds to 0.
 * - test_loss   = 0.15 + 0.03 test error + 0.9 gap / 100 (gap = train_acc - test_acc: overfit nets are
 *   over-confident); train_loss = 0.0002 + 0.028 train error (below test_loss, as train error is).
 * - hessian_e   = 4.4 - 1.05 ln(W / 2) + 0.45 ln(B / 16) + 0.3 ln(1 / D) (+ 0.3 noisy) + N(0, 0.05):
 *   sharpness shrinks with width and grows with batch size; hessian_t = hessian_e + 2.2 + 0.25 ln(W / 2).
 * - CKA         = 0.82 (1 - exp(-0.35 sqrt(W D))) - 0.02 ln(B / 16) / ln 64 (x 0.9 noisy) + N(0, 0.01),
 *   within [0.02, 0.99]: wider nets trained on more data learn more similar representations.
 * - Mode connectivity: with e the train error at both ends and a barrier
 *   b = 20 exp(-0.8 sqrt(W)) (B / 128)^0.15 D^-0.2 (1 + N(0, 0.1)), the highest point between the ends is
 *   P = 0.55 e + b (rounded to whole training images); peak = -P and mode_connectivity = e - P (negative
 *   for a barrier, positive where the curve runs below badly trained ends, 0 and -0.0 for wide nets).
 * - L2 (distance between seeds' weights) = 6.5 sqrt(W) (0.9 + 0.1 ln B / ln 1024) (1 + N(0, 0.02)).
 */
import type { CheckpointCoords } from '../config/layout.js';
import type { MetricName } from '../dataset/metrics.js';
import type { Rng } from './prng.js';

/** One configuration's metric values, as the extractor should compute them from the written files. */
export type CellValues = Record<Exclude<MetricName, 'generalization_gap'>, number>;

/** The collections the generator knows: clean labels, and 10 % label noise (a bit worse everywhere). */
export type CollectionName = 'basic' | 'noisy';

/** Number of CIFAR-10 training images in a data fraction ("10": 50,000). */
export function trainImages(data: string): number {
  return 5000 * Number(data);
}

/** The smallest step of an accuracy over n images, in percent. */
export function accuracyStep(images: number): number {
  return 100 / images;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** The built-in model's values for one configuration (formulas above). */
export function modelCell(c: CheckpointCoords, collection: CollectionName, rng: Rng): CellValues {
  const B = c.bs;
  const W = c.width;
  const D = Number(c.data) / 10;
  const noisy = collection === 'noisy';
  const trainStep = accuracyStep(trainImages(c.data));
  const roundTrain = (x: number) => Math.round(x / trainStep) * trainStep;

  const bestBs = 128 * Math.sqrt(D);
  let testErr = 9 + 30 * W ** -0.5 + 6 * (D ** -0.5 - 1) + 2.5 * Math.log(B / bestBs) ** 2;
  if (noisy) testErr += 4 + 8 * (W * D) ** -0.3;
  testErr = clamp(testErr + 0.25 * rng.normal(), 1, 90);

  const capacity = (W ** 0.9 * (256 / B) ** 0.4) / D;
  let trainErr = Math.max(0, 0.95 * testErr * Math.exp(-capacity / 8) - 0.1);
  if (noisy) trainErr += 6 * (B / 1024) ** 0.5 * W ** -0.4;
  trainErr = clamp(roundTrain(Math.min(trainErr, testErr * 0.95)), 0, 100);

  const testAcc = 100 - testErr;
  const trainAcc = 100 - trainErr;
  const gap = trainAcc - testAcc;

  const hessianE = 4.4 - 1.05 * Math.log(W / 2) + 0.45 * Math.log(B / 16) + 0.3 * Math.log(1 / D) + (noisy ? 0.3 : 0) + 0.05 * rng.normal();
  const hessianT = hessianE + 2.2 + 0.25 * Math.log(W / 2);

  const cka = clamp(
    (0.82 * (1 - Math.exp(-0.35 * Math.sqrt(W * D))) - (0.02 * Math.log(B / 16)) / Math.log(64)) * (noisy ? 0.9 : 1) + 0.01 * rng.normal(),
    0.02,
    0.99,
  );

  const barrier = 20 * Math.exp(-0.8 * Math.sqrt(W)) * (B / 128) ** 0.15 * D ** -0.2 * (1 + 0.1 * rng.normal());
  const highest = Math.max(0, roundTrain(0.55 * trainErr + barrier));

  return {
    test_acc: testAcc,
    test_loss: 0.15 + 0.03 * testErr + (0.9 * gap) / 100,
    train_acc: trainAcc,
    train_loss: 0.0002 + 0.028 * trainErr,
    hessian_e: hessianE,
    hessian_t: hessianT,
    mode_connectivity: trainErr - highest,
    mode_connectivity_peak: -highest,
    CKA: cka,
    L2: 6.5 * Math.sqrt(W) * (0.9 + (0.1 * Math.log(B)) / Math.log(1024)) * (1 + 0.02 * rng.normal()),
  };
}
