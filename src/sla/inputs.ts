/**
 * Turning `sla` arguments into report files: plain paths, directories (their *.json files) and
 * quoted globs (`reports/*.json`, `runs/**\/run-?.json`, `[ab]*.json`) — a shell usually expands
 * globs, but a quoted one must work too. A pattern matching nothing is an input error.
 */
import {readdirSync, statSync} from 'node:fs';
import path from 'node:path';

export interface InputProblem {
  /** The file or pattern as the user gave it. */
  file: string;
  reason: string;
}

export interface ExpandedInputs {
  /** Files to read, in argument order (each pattern's matches sorted), without duplicates. */
  files: string[];
  problems: InputProblem[];
}

const MAGIC = /[*?[]/;

export function hasGlobMagic(arg: string): boolean {
  return MAGIC.test(arg);
}

/** A regex for one path segment: `*` any run, `?` one char, `[abc]`/`[a-z]`/`[!a]` classes; never matches `/`. */
export function segmentRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      body = body.replace(/[\\\]^]/g, (c) => `\\${c}`);
      re += negate ? `[^/${body}]` : `[${body}]`;
      i = close;
    } else re += ch.replace(/[.+^${}()|\\\]]/g, (c) => `\\${c}`);
  }
  return new RegExp(`^${re}$`);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir === '' ? '.' : dir).sort();
  } catch {
    return [];
  }
}

function join(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** Every directory below `dir` (and `dir` itself), skipping hidden ones, for `**`. */
function allDirs(dir: string, out: string[]): void {
  out.push(dir);
  for (const name of listDir(dir)) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    if (isDir(p)) allDirs(p, out);
  }
}

/** Files matching `pattern` (relative to the working directory or absolute), sorted. */
export function expandGlob(pattern: string): string[] {
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let current: string[] = [absolute ? '/' : ''];
  if (absolute) segments.shift();
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    const next: string[] = [];
    if (seg === '**' && !last) {
      for (const dir of current) allDirs(dir, next);
    } else if (!hasGlobMagic(seg)) {
      for (const dir of current) next.push(join(dir, seg));
    } else {
      const re = segmentRegex(seg === '**' ? '*' : seg);
      const dotOk = seg.startsWith('.');
      for (const dir of current)
        for (const name of listDir(dir)) if ((dotOk || !name.startsWith('.')) && re.test(name)) next.push(join(dir, name));
    }
    current = last ? next.filter(isFile) : next.filter(isDir);
  });
  return [...new Set(current)].sort();
}

/**
 * Expands `args`: an existing path is used as is (a directory means its *.json files); an
 * argument with glob characters is expanded; a pattern or directory yielding no file is a problem.
 * Paths that do not exist are passed through (reading them reports "no such file").
 */
export function expandInputs(args: readonly string[]): ExpandedInputs {
  const files: string[] = [];
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  const add = (f: string) => {
    const key = path.resolve(f);
    if (seen.has(key)) return;
    seen.add(key);
    files.push(f);
  };
  for (const arg of args) {
    if (isDir(arg)) {
      const found = listDir(arg)
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .map((n) => join(arg, n))
        .filter(isFile);
      if (found.length === 0) problems.push({file: arg, reason: 'directory contains no .json report files'});
      found.forEach(add);
    } else if (isFile(arg) || !hasGlobMagic(arg)) {
      add(arg);
    } else {
      const found = expandGlob(arg);
      if (found.length === 0) problems.push({file: arg, reason: 'no file matches this pattern'});
      found.forEach(add);
    }
  }
  return {files, problems};
}
