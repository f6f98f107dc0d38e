/**
 * Issue 14 point 1: a layout that matches folders holding none of the metric files (here `/metrics` left
 * off) is a configuration error (exit 2) naming the layout and the sub-folder where the files are, and it
 * replaces nothing an earlier build wrote; a few such folders among good ones are each noted in the report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { basicFolder, expectExit, mdpipe, smallProject } from './support.js';

const outputs = (dir: string): Map<string, Buffer> => {
  const out = new Map<string, Buffer>();
  for (const c of ['basic', 'noisy']) {
    for (const f of fs.readdirSync(path.join(dir, 'out', c))) out.set(`${c}/${f}`, fs.readFileSync(path.join(dir, 'out', c, f)));
  }
  return out;
};

describe('folders without metric files', () => {
  test('a layout one level too short: exit 2, names the layout and suggests .../metrics, replaces no output', async () => {
    const dir = await smallProject('layout');
    expectExit(await mdpipe(['run', '--quiet'], { cwd: dir }), 0);
    const before = outputs(dir);
    const configFile = path.join(dir, 'mdpipe.config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    const layout: string = config.collections.basic.layout;
    expect(layout.endsWith('/metrics')).toBe(true);
    config.collections.basic.layout = layout.slice(0, -'/metrics'.length);
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));

    const ran = await mdpipe(['run'], { cwd: dir });
    expectExit(ran, 2);
    expect(ran.stderr).toContain('collections.basic.layout: none of the 18 folders the layout');
    expect(ran.stderr).toContain(`fix: the files are in a sub-folder: set collections.basic.layout to "${layout}"`);
    expect(ran.stderr.match(/none of the 18 folders/g)).toHaveLength(1);
    expect(outputs(dir)).toEqual(before);
  });

  test('one empty folder among good ones builds, and report.json names it', async () => {
    const dir = await smallProject('empty-folder');
    const folder = basicFolder(dir, 256, 32, '05');
    for (const f of fs.readdirSync(folder)) fs.rmSync(path.join(folder, f));
    const ran = await mdpipe(['run'], { cwd: dir });
    expectExit(ran, 0);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'out/basic/report.json'), 'utf8'));
    const noted = report.checkpointNotes.find((n: { configuration: string }) => n.configuration === 'bs256-w32-d05');
    expect(noted.notes[0]).toMatch(/^none of the six metric files is in this folder, so it is not a checkpoint/);
    expect(report.warnings.join('\n')).toContain('1 checkpoint folder has notes');
  });
});
