#!/usr/bin/env node
/**
 * Size limits of the native engine's C sources (native/*.c and native/test/*.c): no function body
 * over 80 lines (counted from the line of its opening `{` to the line of its closing `}`), no file
 * over 500 lines. Prints one line per offender and exits 1; prints nothing and exits 0 when all fit.
 * Usage: node scripts/check-c-functions.mjs [ROOT]
 */
import {readdirSync, readFileSync, existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const MAX_FUNCTION_LINES = 80;
const MAX_FILE_LINES = 500;

const root = process.argv[2] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The C text with comments, string and character literals blanked out (newlines kept). */
function blank(text) {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === '/' && d === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '/' && d === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      out += c + ' '.repeat(Math.max(0, Math.min(j, n) - i - 1)) + (j < n ? c : '');
      i = j + 1;
    } else if (c === '#' && (i === 0 || text[i - 1] === '\n')) {
      // a preprocessor line (with its continuations)
      let j = i;
      while (j < n && !(text[j] === '\n' && text[j - 1] !== '\\')) j++;
      out += text.slice(i, j).replace(/[^\n]/g, ' ');
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The name of the function whose header (text before a top-level `{`) this is, or null. */
function functionName(header) {
  const h = header.trim();
  if (!h.endsWith(')') || /=\s*$/.test(h) || /^(typedef\b|struct\b[^()]*$|enum\b|union\b)/.test(h)) return null;
  let depth = 0;
  for (let i = h.length - 1; i >= 0; i--) {
    if (h[i] === ')') depth++;
    else if (h[i] === '(') {
      depth--;
      if (depth === 0) {
        const m = /([A-Za-z_]\w*)\s*$/.exec(h.slice(0, i));
        if (m === null || ['if', 'for', 'while', 'switch', 'return', 'sizeof'].includes(m[1])) return null;
        if (/=/.test(h.slice(0, i))) return null; /* an initializer */
        return m[1];
      }
    }
  }
  return null;
}

/** Offenders of one file, as report lines. */
export function checkFile(file, text, shown = file) {
  const problems = [];
  const lines = text.split('\n');
  const lineCount = text.endsWith('\n') ? lines.length - 1 : lines.length;
  if (lineCount > MAX_FILE_LINES) problems.push(`${shown} is ${lineCount} lines (max ${MAX_FILE_LINES})`);
  const code = blank(text);
  let depth = 0;
  let line = 1;
  let headerStart = 0;
  let open = null; // {name, nameLine, openLine}
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '\n') line++;
    else if (c === '{') {
      if (depth === 0) {
        const header = code.slice(headerStart, i);
        const name = functionName(header);
        if (name !== null) {
          const at = headerStart + header.search(new RegExp(`\\b${name}\\s*\\(`));
          const nameLine = code.slice(0, at).split('\n').length;
          open = {name, nameLine, openLine: line};
        }
      }
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) {
        if (open !== null) {
          const length = line - open.openLine + 1;
          if (length > MAX_FUNCTION_LINES) problems.push(`${shown}:${open.nameLine} ${open.name} is ${length} lines (max ${MAX_FUNCTION_LINES})`);
          open = null;
        }
        headerStart = i + 1;
      }
    } else if (c === ';' && depth === 0) {
      headerStart = i + 1;
    }
  }
  return problems;
}

function cFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => path.join(dir, f));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = [...cFiles(path.join(root, 'native')), ...cFiles(path.join(root, 'native', 'test'))];
  const problems = files.flatMap((f) => checkFile(f, readFileSync(f, 'utf8'), path.relative(root, f)));
  for (const p of problems) console.log(p);
  process.exit(problems.length > 0 ? 1 : 0);
}
