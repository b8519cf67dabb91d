/**
 * A strict little XML parser for tests (no dependency): elements, attributes, text, the five
 * predefined entities and numeric references, an optional declaration. Throws on anything
 * malformed (mismatched tags, bad attribute syntax, unknown entity, trailing content).
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"};

function decode(s: string): string {
  return s.replace(/&([^;]*);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new Error(`unknown entity &${e};`);
    return v;
  });
}

export function parseXml(input: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`XML: ${msg} at offset ${i}`);
  };
  const skipWs = () => {
    while (i < input.length && /\s/.test(input[i])) i++;
  };
  const name = (): string => {
    const m = /^[A-Za-z_][\w.:-]*/.exec(input.slice(i));
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };
  const element = (): XmlElement => {
    if (input[i] !== '<') fail('expected <');
    i++;
    const el: XmlElement = {name: name(), attrs: {}, children: [], text: ''};
    for (;;) {
      skipWs();
      if (input.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (input[i] === '>') {
        i++;
        break;
      }
      const a = name();
      skipWs();
      if (input[i] !== '=') fail('expected =');
      i++;
      skipWs();
      const q = input[i];
      if (q !== '"' && q !== "'") fail('expected a quote');
      const end = input.indexOf(q, i + 1);
      if (end === -1) fail('unterminated attribute');
      const raw = input.slice(i + 1, end);
      if (raw.includes('<')) fail('< in attribute value');
      if (a in el.attrs) fail(`duplicate attribute ${a}`);
      el.attrs[a] = decode(raw);
      i = end + 1;
    }
    for (;;) {
      if (i >= input.length) fail(`unclosed <${el.name}>`);
      if (input.startsWith('</', i)) {
        i += 2;
        const n = name();
        if (n !== el.name) fail(`</${n}> closes <${el.name}>`);
        skipWs();
        if (input[i] !== '>') fail('expected >');
        i++;
        return el;
      }
      if (input[i] === '<') {
        el.children.push(element());
        continue;
      }
      const next = input.indexOf('<', i);
      const chunk = input.slice(i, next === -1 ? input.length : next);
      el.text += decode(chunk);
      i += chunk.length;
    }
  };
  skipWs();
  if (input.startsWith('<?xml', i)) {
    const end = input.indexOf('?>', i);
    if (end === -1) fail('unterminated declaration');
    i = end + 2;
  }
  skipWs();
  const root = element();
  skipWs();
  if (i !== input.length) fail('content after the root element');
  return root;
}

/** All descendants (depth first) named `name`. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}
