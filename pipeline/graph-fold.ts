/**
 * Folding partitions: `parse:basic/bs_16_w_2_d_10` belongs to the group `parse:basic/*`. The kind graph,
 * target suggestions and summaries show groups so a graph of thousands of partitions stays readable.
 */

/** The group id of a partition id: everything up to the first `/` after the colon, then `/*`. */
export function foldedId(id: string): string {
  const colon = id.indexOf(':');
  const slash = id.indexOf('/', colon + 1);
  return slash < 0 ? `${id.slice(0, colon)}:*` : `${id.slice(0, slash)}/*`;
}
