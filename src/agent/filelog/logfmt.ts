/** A strict logfmt reader: a line is logfmt only if every word is key=value (values may be quoted). */

const KEY = /^[A-Za-z_@][A-Za-z0-9_.\-@/]*$/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };

/** The pairs of a logfmt line, or undefined when it is not one (fewer than two pairs, a bare word). */
export function parseLogfmt(line: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) break;
    const eq = line.indexOf('=', i);
    if (eq < 0) return undefined;
    const key = line.slice(i, eq);
    if (!KEY.test(key)) return undefined;
    i = eq + 1;
    let value = '';
    if (line[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = line[i];
        if (c === '\\' && i + 1 < n) {
          value += ESCAPES[line[i + 1]] ?? line[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed || (i < n && line[i] !== ' ' && line[i] !== '\t')) return undefined;
    } else {
      const start = i;
      while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
      value = line.slice(start, i);
      if (value.includes('"')) return undefined;
    }
    pairs.push([key, value]);
  }
  return pairs.length >= 2 ? pairs : undefined;
}
