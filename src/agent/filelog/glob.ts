/**
 * A small glob matcher and directory walker for the file-log receiver: *, ?, ** (any number of
 * directories), {a,b} alternatives and [...] classes, on POSIX paths. Walking goes segment by
 * segment so a pattern like /var/log/app/*.log reads one directory, not the whole tree.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/** Alternatives expanded from one pattern; bounded so a hostile pattern cannot explode. */
const MAX_EXPANSIONS = 256;
/** Deepest directory level a ** walks into, as a guard against deep trees and loops. */
const MAX_DEPTH = 32;

/** Expands {a,b} alternatives (nested allowed) into plain patterns. */
export function expandBraces(pattern: string): string[] {
  const open = findBraceOpen(pattern);
  if (open < 0) return [pattern];
  const close = findBraceClose(pattern, open);
  if (close < 0) return [pattern];
  const options = splitTopLevel(pattern.slice(open + 1, close));
  if (options.length < 2) {
    // '{a}' is not an alternative; keep the braces literally and expand what follows.
    return expandBraces(pattern.slice(close + 1)).map((rest) => pattern.slice(0, close + 1) + rest);
  }
  const out: string[] = [];
  for (const option of options) {
    for (const expanded of expandBraces(pattern.slice(0, open) + option + pattern.slice(close + 1))) {
      out.push(expanded);
      if (out.length > MAX_EXPANSIONS) throw new TypeError(`glob ${JSON.stringify(pattern)} expands to more than ${MAX_EXPANSIONS} patterns`);
    }
  }
  return out;
}

function findBraceOpen(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '{') return i;
  }
  return -1;
}

function findBraceClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

const REGEX_SPECIAL = new Set('.+^$()|{}[]\\/*?');

/** The regex source for one path segment (no '/', no braces). */
function segmentSource(segment: string): string {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\' && i + 1 < segment.length) {
      re += escapeChar(segment[++i]);
    } else if (c === '*') {
      while (segment[i + 1] === '*') i++;
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replaceAll('\\', '\\\\').replaceAll('/', '') + ']';
      i = end;
    } else {
      re += escapeChar(c);
    }
  }
  return re;
}

function escapeChar(c: string): string {
  return REGEX_SPECIAL.has(c) ? '\\' + c : c;
}

function hasMagic(segment: string): boolean {
  return /[*?[]/.test(segment);
}

function unescape(segment: string): string {
  return segment.replace(/\\(.)/g, '$1');
}

/** A compiled glob: a whole-path matcher (used for exclude) built from brace-free alternatives. */
export interface GlobMatcher {
  readonly pattern: string;
  matches(path: string): boolean;
}

/** A relative pattern matches at any depth ('*.gz' excludes every .gz file). */
export function compileGlob(pattern: string): GlobMatcher {
  const absolute = pattern.startsWith('/') ? resolve(pattern) : `/**/${pattern}`;
  const alternatives = expandBraces(absolute).map((p) => new RegExp(pathSource(p)));
  return { pattern, matches: (path) => alternatives.some((re) => re.test(path)) };
}

function pathSource(pattern: string): string {
  const segments = pattern.split('/');
  let re = '^';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (seg === '**') {
      // '**' is zero or more whole directories; at the end, anything below.
      re += last ? '(?:/.*)?' : '(?:/[^/]+)*';
    } else {
      re += (i === 0 ? '' : '/') + segmentSource(seg);
    }
  }
  return re + '$';
}

interface Walk {
  segments: string[];
  /** Compiled segment matchers, undefined for literal segments and '**'. */
  regexes: (RegExp | undefined)[];
}

/**
 * Regular files matching any include glob and no exclude glob, as absolute paths (sorted).
 * Directories that cannot be read are skipped: a glob over /var/log must not fail on one
 * private directory.
 */
export async function findFiles(include: string[], exclude: GlobMatcher[] = []): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of include) {
    for (const alternative of expandBraces(resolve(pattern))) {
      const segments = alternative.split('/').slice(1);
      const walk: Walk = {
        segments,
        regexes: segments.map((s) => (s !== '**' && hasMagic(s) ? new RegExp('^' + segmentSource(s) + '$') : undefined)),
      };
      await walkSegments(walk, '', 0, 0, found);
    }
  }
  return [...found].filter((p) => !exclude.some((g) => g.matches(p))).sort();
}

async function walkSegments(walk: Walk, dir: string, index: number, depth: number, found: Set<string>): Promise<void> {
  const { segments, regexes } = walk;
  if (index >= segments.length) return;
  const seg = segments[index];
  const last = index === segments.length - 1;
  if (seg === '**') {
    if (!last) await walkSegments(walk, dir, index + 1, depth, found);
    if (depth >= MAX_DEPTH) return;
    for (const entry of await listDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) await walkSegments(walk, path, index, depth + 1, found);
      else if (last && (await isFile(entry, path))) found.add(path);
    }
    return;
  }
  const re = regexes[index];
  if (!re) {
    // A literal segment: no need to list the directory.
    const path = `${dir}/${unescape(seg)}`;
    if (last) {
      if (await isFile(undefined, path)) found.add(path);
    } else {
      await walkSegments(walk, path, index + 1, depth + 1, found);
    }
    return;
  }
  for (const entry of await listDir(dir)) {
    if (!re.test(entry.name)) continue;
    const path = `${dir}/${entry.name}`;
    if (last) {
      if (await isFile(entry, path)) found.add(path);
    } else if (entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectory(path)))) {
      await walkSegments(walk, path, index + 1, depth + 1, found);
    }
  }
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir === '' ? '/' : dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Regular files, including symlinks to them (log directories often link the current file). */
async function isFile(entry: Dirent | undefined, path: string): Promise<boolean> {
  if (entry?.isFile()) return true;
  if (entry && !entry.isSymbolicLink()) return false;
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
