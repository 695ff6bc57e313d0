// Reading (possibly very large) JSON files with errors that name the file and the position.
//
// V8 strings top out near 512 MB, so a file like instances_train2017.json (~450 MB) is close to the
// limit of JSON.parse(text). Above `chunkAbove` bytes we split the top level ourselves: each element
// of a top-level array (or of an array stored under a top-level key) is parsed on its own, so no
// single string needs to hold the whole file.

import { readFileSync } from '#platform/fs';
import { EvalInputError } from './errors';

const DEFAULT_CHUNK_ABOVE = 256 * 1024 * 1024;

export function readJsonFile(path: string, chunkAbove = DEFAULT_CHUNK_ABOVE): unknown {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new EvalInputError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf.length > chunkAbove) return parseChunked(buf, path);
  return parseJsonText(buf.toString('utf8'), path);
}

/** JSON.parse with an error naming the source, line, column and offset. */
export function parseJsonText(text: string, source: string, baseOffset = 0): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /at position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    const reason = msg.replace(/\s*in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '');
    throw new EvalInputError(`${source}: malformed JSON at ${describePos(text, pos, baseOffset)}: ${reason}`);
  }
}

function describePos(text: string, pos: number, baseOffset: number): string {
  if (baseOffset > 0) return `byte offset ${baseOffset + Buffer.byteLength(text.slice(0, pos))}`;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${pos - lineStart + 1} (offset ${pos})`;
}

const WS = new Uint8Array(256);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

/** Index after the JSON value starting at `i` (strings, objects, arrays or scalars), without parsing it. */
function skipValue(buf: Buffer, i: number, source: string): number {
  const n = buf.length;
  const c = buf[i];
  if (c === 0x22) return skipString(buf, i, source);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < n) {
      const b = buf[i];
      if (b === 0x22) {
        i = skipString(buf, i, source);
        continue;
      }
      if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new EvalInputError(`${source}: malformed JSON at byte offset ${n}: unexpected end of input`);
  }
  while (i < n) {
    const b = buf[i];
    if (b === 0x2c || b === 0x7d || b === 0x5d || WS[b]) break;
    i++;
  }
  return i;
}

function skipString(buf: Buffer, i: number, source: string): number {
  const n = buf.length;
  i++;
  while (i < n) {
    const b = buf[i];
    if (b === 0x5c) i += 2;
    else if (b === 0x22) return i + 1;
    else i++;
  }
  throw new EvalInputError(`${source}: malformed JSON at byte offset ${n}: unterminated string`);
}

function skipWs(buf: Buffer, i: number): number {
  while (i < buf.length && WS[buf[i]]) i++;
  return i;
}

function expectByte(buf: Buffer, i: number, byte: number, source: string, what: string): void {
  if (buf[i] !== byte) {
    const got = i < buf.length ? `'${String.fromCharCode(buf[i])}'` : 'end of input';
    throw new EvalInputError(`${source}: malformed JSON at byte offset ${i}: expected ${what}, got ${got}`);
  }
}

function parseSlice(buf: Buffer, start: number, end: number, source: string): unknown {
  return parseJsonText(buf.toString('utf8', start, end), source, start);
}

function parseArrayChunked(buf: Buffer, i: number, source: string): [unknown[], number] {
  const out: unknown[] = [];
  i = skipWs(buf, i + 1);
  if (buf[i] === 0x5d) return [out, i + 1];
  for (;;) {
    i = skipWs(buf, i);
    const end = skipValue(buf, i, source);
    out.push(parseSlice(buf, i, end, source));
    i = skipWs(buf, end);
    if (buf[i] === 0x5d) return [out, i + 1];
    expectByte(buf, i, 0x2c, source, "',' or ']'");
    i++;
  }
}

function parseChunked(buf: Buffer, source: string): unknown {
  let i = skipWs(buf, 0);
  let result: unknown;
  if (buf[i] === 0x5b) {
    [result, i] = parseArrayChunked(buf, i, source);
  } else if (buf[i] === 0x7b) {
    const obj: Record<string, unknown> = {};
    i = skipWs(buf, i + 1);
    if (buf[i] !== 0x7d) {
      for (;;) {
        i = skipWs(buf, i);
        expectByte(buf, i, 0x22, source, 'a property name');
        const keyEnd = skipString(buf, i, source);
        const key = parseSlice(buf, i, keyEnd, source) as string;
        i = skipWs(buf, keyEnd);
        expectByte(buf, i, 0x3a, source, "':'");
        i = skipWs(buf, i + 1);
        if (buf[i] === 0x5b) {
          let arr: unknown[];
          [arr, i] = parseArrayChunked(buf, i, source);
          obj[key] = arr;
        } else {
          const end = skipValue(buf, i, source);
          obj[key] = parseSlice(buf, i, end, source);
          i = end;
        }
        i = skipWs(buf, i);
        if (buf[i] === 0x7d) break;
        expectByte(buf, i, 0x2c, source, "',' or '}'");
        i++;
      }
    }
    i++;
    result = obj;
  } else {
    return parseSlice(buf, 0, buf.length, source);
  }
  i = skipWs(buf, i);
  if (i < buf.length) throw new EvalInputError(`${source}: malformed JSON at byte offset ${i}: unexpected data after the end`);
  return result;
}
