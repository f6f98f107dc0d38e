/**
 * Globs over task ids (`parse:noisy/*`, `*:basic`, `grid:*`, `**`).
 *
 * Hand-written rather than picomatch (not a direct dependency): ids are not paths, the grammar needed is
 * three tokens, and a regex of a dozen lines is easier to audit than a dependency's options.
 * `*` matches any run of characters except `/` (so `*:basic` names per-collection tasks and
 * `parse:basic/*` the partitions), `**` matches anything, `?` one character other than `/`.
 */

/** True if the string contains glob syntax. */
export function isIdGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

const cache = new Map<string, RegExp>();

/** Compiles an id glob to an anchored regular expression. */
export function idGlobToRegExp(pattern: string): RegExp {
  let compiled = cache.get(pattern);
  if (compiled) return compiled;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  compiled = new RegExp(`^${source}$`);
  cache.set(pattern, compiled);
  return compiled;
}

/** Ids matching a glob (or equal to a plain id), in the order given. */
export function matchIds(pattern: string, ids: Iterable<string>): string[] {
  const out: string[] = [];
  if (!isIdGlob(pattern)) {
    for (const id of ids) if (id === pattern) out.push(id);
    return out;
  }
  const re = idGlobToRegExp(pattern);
  for (const id of ids) if (re.test(id)) out.push(id);
  return out;
}
