/**
 * Renders the Vega-Lite specs of `heatmaps.ts`: vega-lite compiles them to Vega, vega lays them out and
 * writes SVG headless (`renderer: 'none'` + `toSVG`, no canvas and no DOM needed), and resvg (Rust, its
 * binary shipped in the npm package) rasterises the SVG to PNG. Libraries rather than hand-written SVG: a
 * faceted heatmap with ordinal axes, a colour legend and a second "missing" legend is a few lines of spec
 * here and hundreds of lines of layout code otherwise.
 *
 * Fonts: resvg draws no text without a font, and Vega names `DejaVu Sans, sans-serif`. System fonts are
 * loaded (Debian: fonts-dejavu-core, which `.ci/run` installs when absent), and the generic families are
 * mapped to DejaVu Sans when it is there.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { importEsm } from '../../util/import-esm.js';
import type { VegaLiteSpec } from './heatmaps.js';

/**
 * Pixels per SVG unit of the PNG: a full collection's heatmap is ~1,600 units wide, so ~2,400 px, sharp on
 * a slide; 2 measured ~1.8x the rasterising time of 1 (463 vs 207 ms, plus the PNG encoding).
 */
const PNG_SCALE = 1.5;

const libraries = async () => {
  // One after the other: jest's ES-module loader fails on two concurrent imports sharing dependencies.
  const vega = await importEsm<typeof import('vega')>('vega');
  const vegaLite = await importEsm<typeof import('vega-lite')>('vega-lite');
  return { vega, vegaLite, resvg: await loadResvg() };
};

/** resvg-js is a CommonJS package with a native addon: loaded through require, as the addon needs. */
async function loadResvg(): Promise<typeof import('@resvg/resvg-js')> {
  return createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
}

let loaded: ReturnType<typeof libraries> | undefined;

/** Where Debian's fonts-dejavu-core puts the faces the plots use (regular for labels, bold for titles). */
const DEJAVU = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'];
let fontFiles: string[] | undefined;

/** A spec as SVG text. */
export async function specToSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega, vegaLite } = await (loaded ??= libraries());
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG text as PNG bytes, text drawn with the system's fonts. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const { resvg } = await (loaded ??= libraries());
  const files = (fontFiles ??= DEJAVU.filter((f) => fs.existsSync(f)));
  const image = new resvg.Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    background: 'white',
    // Scanning every system font costs ~0.3 s per picture (measured); DejaVu's two files, a few ms.
    font: files.length > 0
      ? { fontFiles: files, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' }
      : { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return image.render().asPng();
}

/** Every plot of a collection as `plots/<name>.svg` and `plots/<name>.png` (paths relative to the collection). */
export async function renderPlots(plots: ReadonlyMap<string, VegaLiteSpec>): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const [name, spec] of plots) {
    const svg = await specToSvg(spec);
    files[`plots/${name}.svg`] = Buffer.from(svg, 'utf8');
    files[`plots/${name}.png`] = await svgToPng(svg);
  }
  return files;
}
