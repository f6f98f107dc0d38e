/**
 * The names the dataset code shares: the metric files of a checkpoint folder and the metrics (SEMANTICS.md
 * "Metrics of one checkpoint folder"). Kept apart from the extractor so code that only needs the names
 * (the grid, the exports) does not load the file readers.
 */

/** The six metric files of a checkpoint folder, in the order they are read. */
export const METRIC_FILES = [
  'loss_acc_test.pkl',
  'loss_acc.pkl',
  'hessian.pkl',
  'curve_test.npz',
  'CKA_mixup_alpha_16.0.pkl',
  'model_dist.pkl',
] as const;
export type MetricFile = (typeof METRIC_FILES)[number];

/** Every metric of a checkpoint, in output order (L2 is kept in the grid but is not a dataframe column). */
export const METRIC_NAMES = [
  'test_acc',
  'test_loss',
  'train_acc',
  'train_loss',
  'hessian_e',
  'hessian_t',
  'mode_connectivity',
  'mode_connectivity_peak',
  'CKA',
  'generalization_gap',
  'L2',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type Metrics = Record<MetricName, number>;

/** Which metrics each file gives (generalization_gap needs both loss_acc files). */
export const METRICS_OF_FILE: Readonly<Record<MetricFile, readonly MetricName[]>> = {
  'loss_acc_test.pkl': ['test_acc', 'test_loss'],
  'loss_acc.pkl': ['train_acc', 'train_loss'],
  'hessian.pkl': ['hessian_e', 'hessian_t'],
  'curve_test.npz': ['mode_connectivity', 'mode_connectivity_peak'],
  'CKA_mixup_alpha_16.0.pkl': ['CKA'],
  'model_dist.pkl': ['L2'],
};
