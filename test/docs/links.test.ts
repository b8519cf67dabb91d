/**
 * Every relative link of README.md, CONTRIBUTING.md and docs/**\/*.md points at a file or folder
 * that exists (anchors and absolute URLs are not checked).
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {ROOT} from '../helpers/cli.js';

function markdownFiles(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs'), {recursive: true, encoding: 'utf8'})
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f));
  return ['README.md', 'CONTRIBUTING.md', ...docs];
}

/** The targets of `[text](target)` links outside code blocks and code spans. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const links: string[] = [];
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    links.push(target.split('#')[0]);
  }
  return links;
}

describe('markdown links', () => {
  test('the link finder sees relative links and skips URLs, anchors and code', () => {
    expect(relativeLinks('[a](docs/x.md) [b](https://e.org) [c](#top) `[d](no.md)` [e](y.md#part)\n```\n[f](z.md)\n```')).toEqual(['docs/x.md', 'y.md']);
  });

  test.each(markdownFiles())('every relative link of %s resolves', (file) => {
    const dir = path.dirname(path.join(ROOT, file));
    const broken = relativeLinks(readFileSync(path.join(ROOT, file), 'utf8')).filter((l) => !existsSync(path.resolve(dir, decodeURIComponent(l))));
    expect(broken).toEqual([]);
  });
});
