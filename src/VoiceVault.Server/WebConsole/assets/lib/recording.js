// Decrypting a recording (docs/format.md) in the page: the CEK is unwrapped by WebCrypto straight into a
// non-extractable AES key (its bytes never exist in script), and the whole file is opened by one
// AES-GCM call, which checks the tag before it returns a single byte — nothing unauthenticated
// is ever played or offered for download.

/** The largest recording decrypted here. WebCrypto's AES-GCM is one call over the whole file, so the page holds the ciphertext and the plaintext at once. */
export const MAX_BYTES = 1024 * 1024 * 1024;

export class DecryptError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/** Every spelling of the details (docs/format.md) → {publicKeySid, cek, iv} as bytes. */
export function readDetails(details) {
  if (typeof details === 'string') details = JSON.parse(details);
  if (details && details.encryption_details !== undefined) details = details.encryption_details;
  if (!details) throw new DecryptError('details', 'This recording is not encrypted.');
  const type = details.type ?? 'rsa-aes';
  if (type !== 'rsa-aes') throw new DecryptError('details', `Encryption type "${type}" is not rsa-aes.`);
  const publicKeySid = details.public_key_sid ?? details.encryption_public_key_sid;
  const cek = details.encrypted_cek ?? details.encryption_cek;
  const iv = details.iv ?? details.encryption_iv;
  if (!cek || !iv) throw new DecryptError('details', 'The encryption details lack the wrapped key or the IV.');
  const bytes = text => {
    try {
      return Uint8Array.from(atob(text), c => c.charCodeAt(0));
    } catch {
      throw new DecryptError('details', 'The encryption details are not valid base64.');
    }
  };
  const ivBytes = bytes(iv);
  if (ivBytes.length !== 12) throw new DecryptError('details', `The IV is ${ivBytes.length} bytes; it must be 12.`);
  return { publicKeySid, cek: bytes(cek), iv: ivBytes };
}

/** Unwraps the CEK with the private key; a key that is not the recording's fails here. */
export async function unwrap(privateKey, details) {
  try {
    return await crypto.subtle.unwrapKey('raw', details.cek, privateKey, { name: 'RSA-OAEP' }, { name: 'AES-GCM', length: 256 }, false, ['decrypt']);
  } catch {
    throw new DecryptError('key', `This private key is not the one the recording was encrypted to${details.publicKeySid ? ` (${details.publicKeySid})` : ''}: its content key does not unwrap.`);
  }
}

/** Opens ciphertext||tag; resolves to the plaintext only if the tag verifies. */
export async function open(cek, details, ciphertext) {
  if (ciphertext.byteLength < 16) throw new DecryptError('tag', 'The media is shorter than a GCM tag: it is truncated.');
  try {
    return await crypto.subtle.decrypt({ name: 'AES-GCM', iv: details.iv, tagLength: 128 }, cek, ciphertext);
  } catch {
    throw new DecryptError('tag', 'The recording failed authentication (its GCM tag does not match): the media was altered or truncated. Nothing was played.');
  }
}

/** Fetches the media (ciphertext) of a recording, refusing what is over the page's limit. */
export async function fetchMedia(url, { signal, onProgress } = {}) {
  // no-store: the browser's HTTP cache would write the whole file to the profile's disk on the way,
  // competing with the decryption for the same cores, and keep a copy nobody asked for.
  const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store', signal, headers: { Accept: 'application/octet-stream' } });
  if (!response.ok) {
    let message = `The vault answered ${response.status} for the media.`;
    try {
      message = (await response.json()).message ?? message;
    } catch {
      // Not JSON: keep the status.
    }
    throw new DecryptError('fetch', message);
  }
  const total = Number(response.headers.get('Content-Length') ?? 0);
  if (total > MAX_BYTES) {
    throw new DecryptError('size', `This recording is ${(total / 2 ** 20).toFixed(0)} MiB; the console decrypts up to ${MAX_BYTES / 2 ** 20} MiB (WebCrypto opens AES-GCM in one call, holding the encrypted and decrypted file at once). Use voicevault decrypt for it.`);
  }
  if (!total || !response.body) return await response.arrayBuffer();
  // Read into one buffer of the announced size: no chunk list, no second copy.
  const buffer = new Uint8Array(total);
  const reader = response.body.getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > total) throw new DecryptError('fetch', 'The media is longer than the vault announced.');
    buffer.set(value, at);
    at += value.length;
    onProgress?.(at, total);
  }
  if (at !== total) throw new DecryptError('tag', 'The media download ended early: it is truncated. Nothing was played.');
  return buffer.buffer;
}
