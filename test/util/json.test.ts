import { describe, expect, it } from '@jest/globals';
import { canonicalJson, jsonProblem } from '../../util/json.js';

describe('jsonProblem', () => {
  it('accepts JSON', () => {
    expect(jsonProblem({ bs: 16, width: 2, data: '01', nested: [1, 'a', null, true, { x: [] }] }, 'params')).toBeUndefined();
  });

  it('names the first place that is not JSON, with its path', () => {
    expect(jsonProblem({ a: 1, b: NaN }, 'params')).toBe('params.b is NaN');
    expect(jsonProblem({ a: [1, { c: Infinity }] }, 'params')).toBe('params.a[1].c is Infinity');
    expect(jsonProblem([0, undefined], 'params')).toBe('params[1] is undefined');
    expect(jsonProblem({ when: new Date(0) }, 'params')).toBe('params.when is a Date');
    expect(jsonProblem({ f: () => 1 }, 'params')).toBe('params.f is a function');
    expect(jsonProblem(new Map(), 'params')).toBe('params is a Map');
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });
});
