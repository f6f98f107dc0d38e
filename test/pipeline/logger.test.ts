/**
 * The logger factory (JSON lines or pino-pretty, same process) and how engine events are logged.
 */
import { PassThrough } from 'node:stream';
import { createLogger } from '../../cli/logger.js';
import { logEvent } from '../../pipeline/logger.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

it('json format writes one JSON object per line with the event fields', () => {
  const out = capture();
  const logger = createLogger({ format: 'json', destination: out.stream, level: 'debug' });
  logEvent(logger, { type: 'task-end', id: 'grid:basic', kind: 'grid', status: 'failed', ms: 3, error: 'task grid:basic failed: boom' });
  logEvent(logger, { type: 'task-end', id: 'parse:basic/p0', kind: 'parse', status: 'cached', ms: 0 });
  const lines = out.text().trim().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ level: 50, task: 'grid:basic', status: 'failed', msg: 'task grid:basic failed: boom' });
  expect(lines[1]).toMatchObject({ level: 20, task: 'parse:basic/p0', status: 'cached' });
});

it('pretty format is human-readable text, and the level filters debug lines', async () => {
  const out = capture();
  const logger = createLogger({ format: 'pretty', destination: out.stream, level: 'info' });
  logEvent(logger, {
    type: 'discovered',
    tasks: 3,
    counts: { parse: 3 },
    skipped: [{ kind: 'parse', reason: 'outside the configured axes', count: 2, examples: ['bs_19', 'bs_27'] }],
  });
  logEvent(logger, { type: 'task-end', id: 'parse:basic/p0', kind: 'parse', status: 'cached', ms: 0 });
  logEvent(logger, {
    type: 'run-end',
    interrupted: false,
    summary: { ok: true, durationMs: 12, executed: 1, cached: 2, failed: 0, skipped: 0, tasks: [] },
  });
  await new Promise((r) => setImmediate(r));
  const text = out.text();
  expect(text).toContain('WARN');
  expect(text).toContain('skipped 2 parse matches: outside the configured axes (e.g. bs_19, bs_27)');
  expect(text).toContain('1 executed, 2 cached, 0 failed, 0 skipped in 12 ms');
  expect(text).not.toContain('parse:basic/p0 cached');
  expect(() => JSON.parse(text.split('\n')[0])).toThrow();
});

it('with isLevelEnabled, a per-task line of a level that is off is not built, and the others are logged as before', () => {
  const calls: string[] = [];
  const at = (level: string) => (fields: unknown, message?: string) => void calls.push(`${level}: ${message ?? String(fields)}`);
  const asked: string[] = [];
  const logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: (level: string) => (asked.push(level), level !== 'debug' && level !== 'trace'),
  };
  logEvent(logger, { type: 'task-start', id: 'parse:basic/p0', kind: 'parse', reason: 'new' });
  logEvent(logger, { type: 'task-end', id: 'parse:basic/p0', kind: 'parse', status: 'cached', ms: 0 });
  logEvent(logger, { type: 'task-end', id: 'grid:basic', kind: 'grid', status: 'failed', ms: 3, error: 'boom' });
  logEvent(logger, { type: 'task-end', id: 'export:basic', kind: 'export', status: 'cached', ms: 0, restored: ['basic/table.csv'] });
  logEvent(logger, { type: 'task-end', id: 'parse:basic/p1', kind: 'parse', status: 'executed', ms: 2, notes: ['hessian.pkl absent'] });
  expect(calls).toEqual(['error: boom', 'info: export:basic: restored basic/table.csv from the cache', 'info: parse:basic/p1 executed ()', 'warn: parse:basic/p1: hessian.pkl absent']);
  expect(asked).toContain('debug');
  // A logger without isLevelEnabled gets every call, and its own level decides.
  const plain: string[] = [];
  const all = { trace: () => void plain.push('trace'), debug: () => void plain.push('debug'), info: () => void plain.push('info'), warn: () => void plain.push('warn'), error: () => void plain.push('error') };
  logEvent(all, { type: 'task-end', id: 'parse:basic/p0', kind: 'parse', status: 'cached', ms: 0 });
  expect(plain).toEqual(['debug']);
});
