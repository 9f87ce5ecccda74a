// The audit chain checked in the browser (docs/audit.md), with WebCrypto: each event's hash is
// SHA-256 over the 32 bytes of the previous hash and the JCS (RFC 8785) of the event as served,
// without hash and url; a checkpoint's signature is ECDSA P-256 / SHA-256 (DER) over the JCS of
// its fields but signature and url, under the signing key its key_id names (the first 16 hex
// digits of the SHA-256 of the key's SubjectPublicKeyInfo).

export const GENESIS = '0'.repeat(64);

/** RFC 8785 for what an audit record holds: object members sorted by UTF-16 code units; strings and numbers as JSON.stringify writes them. */
export function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value).sort().map(key => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
}

const hex = bytes => Array.from(new Uint8Array(bytes), b => b.toString(16).padStart(2, '0')).join('');
const unhex = text => new Uint8Array(text.match(/../g).map(pair => parseInt(pair, 16)));
const without = (record, ...names) => Object.fromEntries(Object.entries(record).filter(([name]) => !names.includes(name)));

/** The hash an event must carry, from the hash before it. */
export async function hashOf(event, previous) {
  const body = new TextEncoder().encode(canonical(without(event, 'hash', 'url')));
  const input = new Uint8Array(32 + body.length);
  input.set(unhex(previous), 0);
  input.set(body, 32);
  return hex(await crypto.subtle.digest('SHA-256', input));
}

/** A DER ECDSA signature (SEQUENCE of two INTEGERs) as WebCrypto's r‖s, 32 bytes each. */
export function derToRaw(der) {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  if (bytes[0] !== 0x30) throw new Error('not a DER signature');
  let at = bytes[1] & 0x80 ? 2 + (bytes[1] & 0x7f) : 2;
  const raw = new Uint8Array(64);
  for (let part = 0; part < 2; part++) {
    if (bytes[at] !== 0x02) throw new Error('not a DER signature');
    let length = bytes[at + 1];
    let start = at + 2;
    at = start + length;
    while (length > 32 && bytes[start] === 0) {
      start++;
      length--;
    }
    if (length > 32) throw new Error('not a P-256 signature');
    raw.set(bytes.subarray(start, start + length), part * 32 + 32 - length);
  }
  return raw;
}

const pemBody = pem => Uint8Array.from(atob(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')), c => c.charCodeAt(0));

/** Whether a checkpoint is signed by the key its key_id names, among the vault's signing keys. */
export async function checkpointSigned(checkpoint, keys) {
  const key = keys.find(k => k.key_id === checkpoint.key_id);
  if (!key) return false;
  const spki = pemBody(key.public_key);
  if (hex(await crypto.subtle.digest('SHA-256', spki)).slice(0, 16) !== checkpoint.key_id) return false;
  const verifier = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const signature = derToRaw(Uint8Array.from(atob(checkpoint.signature), c => c.charCodeAt(0)));
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifier, signature,
    new TextEncoder().encode(canonical(without(checkpoint, 'signature', 'url'))));
}

/**
 * Checks events (oldest first) from a starting point — sequence `from` + 1 after `previous` —
 * to a checkpoint: {ok: true} or {ok: false, sequence, kind, detail}, the first thing wrong.
 */
export async function verifySpan(events, from, previous, checkpoint) {
  let expected = from + 1;
  for (const event of events) {
    if (event.sequence !== expected) {
      return { ok: false, sequence: expected, kind: event.sequence > expected ? 'missing' : 'reordered', detail: `found sequence ${event.sequence} where ${expected} belongs` };
    }
    if (event.previous_hash !== previous) {
      return { ok: false, sequence: expected, kind: 'changed', detail: `its previous_hash is not the hash of sequence ${expected - 1}` };
    }
    const computed = await hashOf(event, previous);
    if (computed !== event.hash) {
      return { ok: false, sequence: expected, kind: 'changed', detail: 'its content does not hash to its hash: a field was altered after it was recorded' };
    }
    previous = computed;
    expected++;
  }
  if (expected - 1 !== checkpoint.sequence) {
    return { ok: false, sequence: expected, kind: 'truncated', detail: `the events end at sequence ${expected - 1}; the checkpoint signs ${checkpoint.sequence}` };
  }
  if (previous !== checkpoint.hash) {
    return { ok: false, sequence: checkpoint.sequence, kind: 'changed', detail: 'the events do not reach the hash the checkpoint signs' };
  }
  return { ok: true };
}
