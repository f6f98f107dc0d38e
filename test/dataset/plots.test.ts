/**
 * The heatmaps: what the spec draws (ticks at the axis values, missing cells as "missing"), and that the
 * rendered files are real pictures: PNG at least 300 px wide, not blank, and with its text drawn (a font
 * was found), checked by decoding the pixels with pngjs.
 */
import { PNG } from 'pngjs';
import { cellIndex, emptyGrid, type Axes } from '../../dataset/grid.js';
import { computeLabels } from '../../dataset/labels.js';
import { collectionPlots, PLOT_NAMES } from '../../dataset/plots/heatmaps.js';
import { renderPlots, specToSvg, svgToPng } from '../../dataset/plots/render.js';
import { computeRfi } from '../../dataset/rfi.js';

const axes: Axes = { bs: [16, 64, 1024], width: [2, 8, 128], data: ['10', '05'] };
const grid = emptyGrid(axes);
for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) {
  const at = cellIndex(axes, i, j, k);
  if (i === 2 && j === 0 && k === 1) continue; // one configuration missing
  grid.metrics.test_acc[at] = 50 + 10 * j - 5 * i + 3 * k;
  grid.metrics.train_acc[at] = 60 + 10 * j - 5 * i;
  grid.metrics.hessian_t[at] = 100 / (j + 1);
  grid.metrics.mode_connectivity[at] = i - j;
  grid.metrics.CKA[at] = 0.1 * (i + j);
}
const labels = computeLabels(computeRfi(grid.metrics.test_acc, axes));
const plots = collectionPlots('tiny', grid, labels);

/** Pixels darker than mid-grey (text and axis lines; the colour schemes' cells are lighter or coloured). */
function stats(bytes: Uint8Array): { width: number; height: number; dark: number; colours: number } {
  const png = PNG.sync.read(Buffer.from(bytes));
  let dark = 0;
  const colours = new Set<number>();
  for (let p = 0; p < png.data.length; p += 4) {
    const [r, g, b] = [png.data[p], png.data[p + 1], png.data[p + 2]];
    if (r < 90 && g < 90 && b < 90) dark++;
    colours.add((r << 16) | (g << 8) | b);
  }
  return { width: png.width, height: png.height, dark, colours: colours.size };
}

describe('phase-diagram heatmaps', () => {
  test('one plot per label and main metric', () => {
    expect([...plots.keys()]).toEqual(['bs_failure', 'width_vs_batch', 'data_vs_batch', 'test_acc', 'train_acc', 'hessian_t', 'mode_connectivity', 'CKA']);
    expect([...plots.keys()]).toEqual(PLOT_NAMES);
  });

  test('the SVG has ticks at the real axis values, one panel per data fraction, and the missing cell in its legend', async () => {
    const svg = await specToSvg(plots.get('test_acc')!);
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const v of [...axes.bs, ...axes.width]) expect(texts).toContain(String(v));
    expect(texts).toEqual(expect.arrayContaining(['100 % of the data', '50 % of the data', 'missing', 'test_acc', 'batch size']));
    // 3 x 3 cells per panel, two panels: 17 valued cells and 1 missing, each a path with a fill.
    const fills = [...svg.matchAll(/<path[^>]*fill="([^"]+)"/g)].map((m) => m[1].toLowerCase());
    expect(fills.filter((f) => f === '#d0d0d0').length).toBeGreaterThanOrEqual(2); // the cell and its legend swatch
  });

  test('PNGs are at least 300 px wide, not blank, and their text is drawn', async () => {
    const files = await renderPlots(new Map([['bs_failure', plots.get('bs_failure')!], ['CKA', plots.get('CKA')!]]));
    expect(Object.keys(files).sort()).toEqual(['plots/CKA.png', 'plots/CKA.svg', 'plots/bs_failure.png', 'plots/bs_failure.svg']);
    for (const name of ['plots/CKA.png', 'plots/bs_failure.png']) {
      const s = stats(files[name]);
      expect(s.width).toBeGreaterThanOrEqual(300);
      expect(s.colours).toBeGreaterThan(20);
      // The same picture with every text element removed has far fewer dark pixels: the text rendered.
      const svg = Buffer.from(files[name.replace('.png', '.svg')]).toString('utf8');
      const withoutText = stats(await svgToPng(svg.replace(/<text[^>]*>[^<]*<\/text>/g, '')));
      console.log(`${name}: ${s.width} x ${s.height} px, ${s.colours} colours, ${s.dark} dark pixels (${withoutText.dark} without text)`);
      expect(s.dark).toBeGreaterThan(withoutText.dark + 2000);
    }
  });
});
