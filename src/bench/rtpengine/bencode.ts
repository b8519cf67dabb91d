/**
 * Bencode (the dictionary format of rtpengine's ng control protocol): byte strings `4:spam`,
 * integers `i42e`, lists `l…e`, dictionaries `d…e`. Strings are UTF-8 on both sides (ng carries
 * ASCII SDP and flag names); dictionary keys are written in byte order, and read in any order
 * (rtpengine does not sort its replies).
 */

export type BValue = string | number | BValue[] | {[key: string]: BValue};

export class BencodeError extends Error {
  override name = 'BencodeError';
}

export function bencode(value: BValue): Buffer {
  const parts: Buffer[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function write(v: BValue, out: Buffer[]): void {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    out.push(Buffer.from(`${b.length}:`, 'ascii'), b);
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new BencodeError(`bencode: ${v} is not an integer`);
    out.push(Buffer.from(`i${v}e`, 'ascii'));
  } else if (Array.isArray(v)) {
    out.push(Buffer.from('l'));
    for (const item of v) write(item, out);
    out.push(Buffer.from('e'));
  } else if (v !== null && typeof v === 'object') {
    out.push(Buffer.from('d'));
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    for (const k of keys) {
      write(k, out);
      write(v[k], out);
    }
    out.push(Buffer.from('e'));
  } else {
    throw new BencodeError(`bencode: cannot encode ${String(v)}`);
  }
}

/** Decode one complete value; trailing bytes are an error. */
export function bdecode(buf: Buffer): BValue {
  const r = {pos: 0};
  const v = read(buf, r);
  if (r.pos !== buf.length) throw new BencodeError(`bdecode: ${buf.length - r.pos} trailing bytes at ${r.pos}`);
  return v;
}

const COLON = 0x3a;
const E = 0x65;

function read(buf: Buffer, r: {pos: number}): BValue {
  if (r.pos >= buf.length) throw new BencodeError('bdecode: unexpected end of input');
  const c = buf[r.pos];
  if (c === 0x69 /* i */) {
    const end = buf.indexOf(E, r.pos + 1);
    if (end < 0) throw new BencodeError(`bdecode: unterminated integer at ${r.pos}`);
    const text = buf.toString('ascii', r.pos + 1, end);
    if (!/^(0|-?[1-9]\d*)$/.test(text)) throw new BencodeError(`bdecode: bad integer "${text}" at ${r.pos}`);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new BencodeError(`bdecode: integer ${text} out of range`);
    r.pos = end + 1;
    return n;
  }
  if (c === 0x6c /* l */) {
    r.pos++;
    const list: BValue[] = [];
    while (buf[r.pos] !== E) {
      if (r.pos >= buf.length) throw new BencodeError('bdecode: unterminated list');
      list.push(read(buf, r));
    }
    r.pos++;
    return list;
  }
  if (c === 0x64 /* d */) {
    r.pos++;
    const dict: {[key: string]: BValue} = {};
    while (buf[r.pos] !== E) {
      if (r.pos >= buf.length) throw new BencodeError('bdecode: unterminated dictionary');
      const key = readString(buf, r);
      dict[key] = read(buf, r);
    }
    r.pos++;
    return dict;
  }
  if (c >= 0x30 && c <= 0x39) return readString(buf, r);
  throw new BencodeError(`bdecode: unexpected byte 0x${c.toString(16)} at ${r.pos}`);
}

function readString(buf: Buffer, r: {pos: number}): string {
  const colon = buf.indexOf(COLON, r.pos);
  if (colon < 0) throw new BencodeError(`bdecode: string length without ':' at ${r.pos}`);
  const lenText = buf.toString('ascii', r.pos, colon);
  if (!/^(0|[1-9]\d*)$/.test(lenText)) throw new BencodeError(`bdecode: bad string length "${lenText}" at ${r.pos}`);
  const len = Number(lenText);
  const start = colon + 1;
  if (start + len > buf.length) throw new BencodeError(`bdecode: string of ${len} bytes runs past the end at ${r.pos}`);
  r.pos = start + len;
  return buf.toString('utf8', start, start + len);
}
