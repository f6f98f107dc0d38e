/**
 * Issue 13 end to end on a small synthetic project: the default run writes dictionary.npy, index.html,
 * graph.svg and last-run.json but no plots; `run 'plot:*'` draws them and is cached the second time;
 * `graph --format svg|html` colours nodes by status; and index.html, opened from disk in a real browser
 * (Debian chromium, headless; skipped with a message when absent), shows the plots loaded; and a run that
 * changes only a count draws graph.svg from the layout kept in the cache folder (no Graphviz).
 */
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { readNpyObject } from '../../formats/npy.js';
import { basicFolder, browser, chromium, expectExit, mdpipe, parseJson, smallProject } from './support.js';

interface Summary {
  tasks: { id: string; status: string }[];
}

describe('outputs researchers use (issue 13)', () => {
  let dir: string;
  let out: string;
  beforeAll(async () => {
    dir = await smallProject('outputs');
    fs.rmSync(basicFolder(dir, 256, 32, '05'), { recursive: true }); // one configuration missing
    out = path.join(dir, 'out');
  }, 120_000);

  test('a default run exports dictionary.npy and writes the pages, but draws no plots', async () => {
    const ran = await mdpipe(['run', '--json'], { cwd: dir });
    expectExit(ran, 0);
    const ids = parseJson<Summary>(ran).tasks.map((t) => t.id);
    // Nothing but the progress lines a slow run logs every 2 s (a loaded machine made this test fail on them).
    expect(ran.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('progress: '))).toEqual([]);
    expect(ids.filter((id) => id.startsWith('plot:'))).toEqual([]);
    expect(ids).toContain('export:noisy');
    const dict = readNpyObject(fs.readFileSync(path.join(out, 'noisy/dictionary.npy')), 'dictionary.npy') as Map<string, Map<string, unknown>>;
    expect(dict.size).toBe(18);
    expect([...dict.values()][0].get('noise')).toBe(10); // synth wrote "noise": 10 for the noisy collection
    for (const f of ['index.html', 'graph.svg', 'last-run.json']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    expect(fs.existsSync(path.join(out, 'basic/plots'))).toBe(false);
  }, 120_000);

  test("run 'plot:*' draws every plot, and a second time finds them cached", async () => {
    const first = await mdpipe(['run', 'plot:*', '--json'], { cwd: dir });
    expectExit(first, 0);
    const plots = (s: Summary) => s.tasks.filter((t) => t.id.startsWith('plot:')).map((t) => `${t.id} ${t.status}`).sort();
    expect(plots(parseJson<Summary>(first))).toEqual(['plot:basic executed', 'plot:noisy executed']);
    const names = fs.readdirSync(path.join(out, 'basic/plots')).sort();
    expect(names).toHaveLength(16);
    const png = PNG.sync.read(fs.readFileSync(path.join(out, 'basic/plots/test_acc.png')));
    expect(png.width).toBeGreaterThanOrEqual(300);
    const second = await mdpipe(['run', 'plot:*', '--json'], { cwd: dir });
    expect(plots(parseJson<Summary>(second))).toEqual(['plot:basic cached', 'plot:noisy cached']);
  }, 120_000);

  test('graph --format svg and html: drawn, nodes filled by status', async () => {
    const svg = await mdpipe(['graph', '--format', 'svg'], { cwd: dir });
    expectExit(svg, 0);
    expect(svg.stdout).toContain('<svg');
    expect(svg.stdout).toContain('parse:basic/* (17)'); // folded, one folder removed
    // Everything is fresh after the runs above: every task node is filled with the fresh colour.
    expect(svg.stdout).toMatch(/<title>grid:basic<\/title>\s*<g[^>]*><a[^>]*>\s*<polygon fill="#c7e9c0"/);
    const html = await mdpipe(['graph', '--format', 'html'], { cwd: dir });
    expect(html.stdout).toMatch(/^<!DOCTYPE html>[\s\S]*<svg[\s\S]*<\/html>\n$/);
  }, 120_000);

  test('index.html: coverage, links, and (in chromium) the plots loaded', async () => {
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('17 of 18 configurations');
    expect(html).toContain('<li>bs 256, width 32, data 05</li>');
    for (const f of ['basic/dataframe.csv', 'basic/dictionary.npy', 'basic/grid.npz', 'basic/plots/bs_failure.png']) expect(html).toContain(`"${f}"`);
    if (!chromium) {
      process.stderr.write('skipping the browser check of index.html: no chromium installed (Debian: apt-get install chromium)\n');
      return;
    }
    // A copy of index.html beside it with a script that writes each image's natural size into the DOM once
    // the page loaded (images included), which --dump-dom prints (the page itself has no script).
    const check = path.join(out, 'check.html');
    fs.writeFileSync(check, html.replace('</body>', `<pre id="sizes">waiting</pre><script>
      window.addEventListener('load', () => {
        document.getElementById('sizes').textContent = [...document.images].map((i) => i.getAttribute('src') + ' ' + i.naturalWidth + 'x' + i.naturalHeight).join('\\n');
      });
    </script></body>`));
    const dom = browser(['--virtual-time-budget=15000', '--dump-dom', `file://${check}`]);
    const sizes = [...dom.matchAll(/(\S+\.png) (\d+)x(\d+)/g)].map((m) => ({ src: m[1], width: Number(m[2]) }));
    expect(sizes).toHaveLength(16);
    for (const s of sizes) expect(s.width).toBeGreaterThanOrEqual(300);
    // And a screenshot of the page itself is not blank: many colours (the plots), not just text on white.
    const shot = path.join(dir, 'index.png');
    browser([`--screenshot=${shot}`, '--window-size=1200,1600', `file://${path.join(out, 'index.html')}`]);
    const png = PNG.sync.read(fs.readFileSync(shot));
    const colours = new Set<number>();
    for (let p = 0; p < png.data.length; p += 4) colours.add((png.data[p] << 16) | (png.data[p + 1] << 8) | png.data[p + 2]);
    console.log(`index.html in chromium: ${sizes.length} plots loaded (${sizes[0].width} px wide); screenshot ${png.width} x ${png.height}, ${colours.size} colours`);
    expect(colours.size).toBeGreaterThan(200);
  }, 240_000);
  test('a run that changes only a count draws graph.svg from the layout kept in the cache folder', async () => {
    const cache = path.join(dir, '.mdpipe');
    const layouts = (): string[] => fs.readdirSync(cache).filter((f) => f.startsWith('graph-layout-')).sort();
    const kept = layouts();
    expect(kept.length).toBeGreaterThanOrEqual(1);
    // A mark in every kept layout: Graphviz, laying the graph out again, would not write it.
    for (const f of kept) {
      const layout = JSON.parse(fs.readFileSync(path.join(cache, f), 'utf8')) as { structure: string; svg: string };
      fs.writeFileSync(path.join(cache, f), JSON.stringify({ ...layout, svg: layout.svg.replace('<svg ', '<!-- kept layout -->\n<svg ') }));
    }
    fs.rmSync(basicFolder(dir, 16, 2, '10'), { recursive: true }); // 17 -> 16 folders
    expectExit(await mdpipe(['run', '--json'], { cwd: dir }), 0);
    const svg = fs.readFileSync(path.join(out, 'graph.svg'), 'utf8');
    expect(svg).toContain('<!-- kept layout -->');
    expect(svg).toContain('parse:basic/* (16)');
    expect(svg).not.toMatch(/~\d+~|#0f[0-9a-f]{4}/);
    expect(fs.readFileSync(path.join(out, 'graph.dot'), 'utf8')).toContain('"parse:basic/*" [label="parse:basic/* (16)", shape=box3d];');
    expect(layouts()).toEqual(kept);
  }, 120_000);
});
