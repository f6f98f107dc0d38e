/**
 * The built-in configuration (used when there is no `--config` and no `./mdpipe.config.json`): the two
 * collections of the Model Diagnosis Dataset, laid out as the loss_landscape_taxonomy code writes them,
 * with the published axes. See docs/SEMANTICS.md.
 */
import type { ConfigFile } from './schema.js';

/** Widths of the published collections (ResNet-18 width multipliers). */
export const PUBLISHED_WIDTHS = [2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128];
/** Batch sizes of the published collections. */
export const PUBLISHED_BATCH_SIZES = [16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024];
/** Data fractions in tenths of CIFAR-10's training set, largest first, as the folders spell them. */
export const PUBLISHED_DATA = ['10', '09', '08', '07', '06', '05', '04', '03', '02', '01'];

/** Label noise of the published noisy collection, in percent (the basic one has none). */
export const NOISY_NOISE_PERCENT = 10;

export const DEFAULT_LAYOUT = 'different_knobs_subset_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics';
export const NOISY_LAYOUT = 'different_knobs_subset_noisy_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics';

const publishedAxes = { bs: PUBLISHED_BATCH_SIZES, width: PUBLISHED_WIDTHS, data: PUBLISHED_DATA };

export const BUILT_IN_CONFIG: ConfigFile = {
  outDir: 'out',
  cacheDir: '.mdpipe',
  collections: {
    basic: { raw: 'pretrained_model_collections/basic_collection', layout: DEFAULT_LAYOUT, axes: publishedAxes },
    noisy: { raw: 'pretrained_model_collections/noisy_collection', layout: NOISY_LAYOUT, axes: publishedAxes, noise: NOISY_NOISE_PERCENT },
  },
};
