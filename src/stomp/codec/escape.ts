import { StompProtocolError, type HeaderEscaping } from './frame.js';

/**
 * Header escapes (STOMP 1.2 "Value Encoding"): \r \n \c \\ stand for CR, LF, colon and backslash;
 * any other escape is a fatal protocol error. STOMP 1.1 has the same rules without \r.
 */
export function unescapeHeader(text: string, escaping: HeaderEscaping): string {
  if (escaping === 'none' || !text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === 'n') out += '\n';
    else if (next === 'c') out += ':';
    else if (next === '\\') out += '\\';
    else if (next === 'r' && escaping === '1.2') out += '\r';
    else throw new StompProtocolError(`invalid escape sequence '\\${next ?? ''}' in header`);
  }
  return out;
}

const NEEDS_ESCAPE = /[\\\r\n:]/;

export function escapeHeader(text: string, escaping: HeaderEscaping): string {
  if (escaping === 'none' || !NEEDS_ESCAPE.test(text)) return text;
  let out = '';
  for (const c of text) {
    if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === ':') out += '\\c';
    else if (c === '\r') out += escaping === '1.2' ? '\\r' : '';
    else out += c;
  }
  return out;
}
