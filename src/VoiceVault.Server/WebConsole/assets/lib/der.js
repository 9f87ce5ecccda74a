// Just enough DER to tell private key files apart and open encrypted PKCS#8 (PBES2) with
// WebCrypto. Every length is checked against what is left; anything unexpected is an error that
// says the file is not a key this page can read — never a guess.

export class KeyFileError extends Error {}

/** Reads one TLV at offset: {tag, start (of contents), end, next}. */
export function read(bytes, offset = 0) {
  if (offset + 2 > bytes.length) throw new KeyFileError('The key file ends too early (truncated DER).');
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > bytes.length) throw new KeyFileError('The key file has a DER length this page cannot read.');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i];
    start += count;
  }
  const end = start + length;
  if (end > bytes.length) throw new KeyFileError('The key file ends too early (truncated DER).');
  return { tag, start, end, next: end };
}

/** The TLVs directly inside a constructed value. */
export function children(bytes, parent) {
  const items = [];
  for (let at = parent.start; at < parent.end;) {
    const item = read(bytes, at);
    if (item.end > parent.end) throw new KeyFileError('The key file\'s DER nesting is broken.');
    items.push(item);
    at = item.next;
  }
  return items;
}

export const contents = (bytes, item) => bytes.subarray(item.start, item.end);

/** An OBJECT IDENTIFIER's dotted form. */
export function oid(bytes, item) {
  if (item.tag !== 0x06) throw new KeyFileError('The key file has no algorithm identifier where one belongs.');
  const body = contents(bytes, item);
  const parts = [Math.floor(body[0] / 40), body[0] % 40];
  let value = 0;
  for (let i = 1; i < body.length; i++) {
    value = value * 128 + (body[i] & 0x7f);
    if (!(body[i] & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** A small non-negative INTEGER (iteration counts, key lengths). */
export function integer(bytes, item) {
  if (item.tag !== 0x02) throw new KeyFileError('The key file has no integer where one belongs.');
  const body = contents(bytes, item);
  if (body.length > 6) throw new KeyFileError('The key file has an integer too large to be a count.');
  let value = 0;
  for (const byte of body) value = value * 256 + byte;
  return value;
}

function encodeLength(length) {
  if (length < 0x80) return [length];
  const out = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest % 256);
  return [0x80 | out.length, ...out];
}

/** Encodes one TLV. */
export function encode(tag, body) {
  const head = [tag, ...encodeLength(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
