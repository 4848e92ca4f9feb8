/**
 * Words of a log search, split the way ClickHouse's hasToken and tokenbf_v1 split text:
 * a token is a run of ASCII letters and digits or of non-ASCII characters; everything else
 * separates. A needle containing a separator would make hasToken throw, so none can.
 */
const TOKEN = /[A-Za-z0-9\u0080-\u{10FFFF}]+/gu;

/**
 * Distinct tokens of the query, lowercased the way ClickHouse's lower() does (ASCII only),
 * which is what the body index is built on.
 */
export function searchTokens(q: string): string[] {
  const out = new Set<string>();
  for (const m of q.matchAll(TOKEN)) out.add(asciiLower(m[0]));
  return [...out];
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}
