// Reading the user's private key file into a WebCrypto key that cannot be exported. Accepted:
// PKCS#8 (BEGIN PRIVATE KEY), PKCS#1 (BEGIN RSA PRIVATE KEY, wrapped here into PKCS#8, which is
// all WebCrypto imports) and encrypted PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY: PBES2 with PBKDF2 and
// AES-CBC, what OpenSSL and `voicevault keygen --passphrase` write), as PEM or DER. Nothing here
// sends, stores or logs the key; the bytes read are overwritten once imported.
import { KeyFileError, read, children, contents, oid, integer, encode, concat } from './der.js';

export { KeyFileError };

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const SCRYPT = '1.3.6.1.4.1.11591.4.11';
const PRF = { '1.2.840.113549.2.7': 'SHA-1', '1.2.840.113549.2.9': 'SHA-256', '1.2.840.113549.2.10': 'SHA-384', '1.2.840.113549.2.11': 'SHA-512' };
const AES_CBC = { '2.16.840.1.101.3.4.1.2': 16, '2.16.840.1.101.3.4.1.22': 24, '2.16.840.1.101.3.4.1.42': 32 };

/** What kind of key file these bytes are: 'pkcs8', 'pkcs1', 'encrypted', or throws with what they are instead. */
function classify(der) {
  const top = read(der);
  if (top.tag !== 0x30 || top.end !== der.length) throw new KeyFileError('This file is not a key (not PEM, and not a DER structure).');
  const items = children(der, top);
  if (items.length === 2 && items[0].tag === 0x30 && items[1].tag === 0x04) return 'encrypted';
  if (items.length >= 3 && items[0].tag === 0x02 && items[1].tag === 0x30 && items[2].tag === 0x04) return 'pkcs8';
  if (items.length >= 9 && items.slice(0, 9).every(item => item.tag === 0x02)) return 'pkcs1';
  if (items.length === 2 && items[0].tag === 0x30 && items[1].tag === 0x03) {
    throw new KeyFileError('This is a public key. Decrypting needs the private key that belongs to it.');
  }
  if (items.length === 2 && items[0].tag === 0x02 && items[1].tag === 0x02) {
    throw new KeyFileError('This is an RSA public key (PKCS#1). Decrypting needs the private key that belongs to it.');
  }
  throw new KeyFileError('This file is not an RSA private key this page can read (PKCS#8, PKCS#1 or encrypted PKCS#8).');
}

const PEM = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

/** PEM → {label, der, headers}; DER → {label: null, der}. */
function unarmor(bytes) {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 64 * 1024)));
  const match = text.match(PEM);
  if (!match) {
    if (text.includes('-----BEGIN')) throw new KeyFileError('The PEM file is cut short or its END line does not match its BEGIN line.');
    return { label: null, der: bytes, encryptedPem: false };
  }
  const body = match[2];
  const encryptedPem = /Proc-Type:\s*4,ENCRYPTED/.test(body);
  const base64 = body.split(/\r?\n/).filter(line => line.trim() && !line.includes(':')).join('').replace(/\s+/g, '');
  let der;
  try {
    der = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
  } catch {
    throw new KeyFileError('The PEM body is not valid base64.');
  }
  return { label: match[1], der, encryptedPem };
}

/** PKCS#1 RSAPrivateKey → PKCS#8 PrivateKeyInfo (version 0, rsaEncryption with NULL parameters). */
function pkcs1ToPkcs8(pkcs1) {
  const algorithm = Uint8Array.of(0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00);
  return encode(0x30, concat(Uint8Array.of(0x02, 0x01, 0x00), algorithm, encode(0x04, pkcs1)));
}

/** Opens an EncryptedPrivateKeyInfo (PBES2: PBKDF2 + AES-CBC) with the passphrase → PKCS#8 bytes. */
async function decryptPkcs8(der, passphrase) {
  const [algorithm, encrypted] = children(der, read(der));
  const [schemeId, schemeParams] = children(der, algorithm);
  const scheme = oid(der, schemeId);
  if (scheme !== PBES2) {
    throw new KeyFileError('The key is encrypted with an old scheme (PBES1) this page cannot open; convert it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out new.pem');
  }
  const [kdf, cipher] = children(der, schemeParams);
  const [kdfId, kdfParams] = children(der, kdf);
  const kdfName = oid(der, kdfId);
  if (kdfName === SCRYPT) {
    throw new KeyFileError('The key\'s passphrase is stretched with scrypt, which browsers do not offer; re-encrypt it with PBKDF2: openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in key.pem -out key-pbkdf2.pem');
  }
  if (kdfName !== PBKDF2) throw new KeyFileError(`The key's passphrase uses a key derivation this page cannot run (${kdfName}).`);
  const kdfItems = children(der, kdfParams);
  if (kdfItems.length < 2 || kdfItems[0].tag !== 0x04) throw new KeyFileError('The key\'s PBKDF2 parameters are malformed.');
  const salt = contents(der, kdfItems[0]).slice();
  const iterations = integer(der, kdfItems[1]);
  if (iterations < 1 || iterations > 10_000_000) throw new KeyFileError(`The key's PBKDF2 iteration count (${iterations}) is out of range.`);
  let hash = 'SHA-1';
  for (const item of kdfItems.slice(2)) {
    if (item.tag === 0x30) {
      const prfId = oid(der, children(der, item)[0]);
      hash = PRF[prfId] ?? (() => { throw new KeyFileError(`The key's PBKDF2 uses a hash this page cannot run (${prfId}).`); })();
    }
  }
  const [cipherId, ivItem] = children(der, cipher);
  const cipherName = oid(der, cipherId);
  const keyBytes = AES_CBC[cipherName];
  if (!keyBytes) throw new KeyFileError(`The key is encrypted with a cipher this page cannot run (${cipherName}); AES-CBC is supported.`);
  if (keyBytes === 24) throw new KeyFileError('The key is encrypted with AES-192, which browsers do not offer; re-encrypt it with -v2 aes-256-cbc.');
  if (ivItem.tag !== 0x04 || ivItem.end - ivItem.start !== 16) throw new KeyFileError('The key\'s AES-CBC IV is malformed.');
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  const aes = await crypto.subtle.deriveKey({ name: 'PBKDF2', salt, iterations, hash }, base, { name: 'AES-CBC', length: keyBytes * 8 }, false, ['decrypt']);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CBC', iv: contents(der, ivItem).slice() }, aes, contents(der, encrypted).slice()));
  } catch {
    throw new KeyFileError('The passphrase is wrong (the key file does not open with it).');
  }
}

/**
 * The user's key file → a non-extractable RSA-OAEP-SHA256 CryptoKey that can only unwrap keys.
 * needsPassphrase is thrown as a KeyFileError when the file is encrypted and none was given.
 */
export async function importPrivateKey(fileBytes, passphrase) {
  const { label, der, encryptedPem } = unarmor(fileBytes);
  if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') throw new KeyFileError('This is a public key. Decrypting needs the private key that belongs to it.');
  if (label === 'CERTIFICATE') throw new KeyFileError('This is a certificate. Decrypting needs the private key.');
  if (label === 'OPENSSH PRIVATE KEY') throw new KeyFileError('This is an OpenSSH key; export it as PKCS#8: ssh-keygen -p -m PKCS8 -f key');
  if (encryptedPem) {
    throw new KeyFileError('The key is encrypted in the old OpenSSL PEM way (Proc-Type), which browsers cannot open; convert it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out new.pem');
  }
  if (label !== null && !['PRIVATE KEY', 'RSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'].includes(label)) {
    throw new KeyFileError(`This PEM file holds "${label}", not an RSA private key.`);
  }
  let kind = classify(der);
  let pkcs8 = der;
  if (kind === 'encrypted') {
    if (!passphrase) throw new KeyFileError('This key is encrypted: enter its passphrase.');
    pkcs8 = await decryptPkcs8(der, passphrase);
    kind = classifyOrWrongPassphrase(pkcs8);
  }
  if (kind === 'pkcs1') pkcs8 = pkcs1ToPkcs8(der);
  try {
    if (kind === 'pkcs8') {
      const algorithm = children(pkcs8, children(pkcs8, read(pkcs8))[1])[0];
      if (oid(pkcs8, algorithm) !== RSA_ENCRYPTION) throw new KeyFileError('This private key is not an RSA key; recordings are wrapped to RSA keys.');
    }
    return await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['unwrapKey']);
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw new KeyFileError('The browser could not read this RSA private key (it is damaged, or not RSA).');
  } finally {
    // The decrypted forms were made here; the caller owns (and clears) the file's bytes.
    if (pkcs8 !== der) pkcs8.fill(0);
    if (der !== fileBytes) der.fill(0);
  }
}

function classifyOrWrongPassphrase(bytes) {
  try {
    const kind = classify(bytes);
    if (kind === 'pkcs8') return kind;
  } catch {
    // Garbage that happened to unpad: the same as a padding failure.
  }
  throw new KeyFileError('The passphrase is wrong (the key file does not open with it).');
}
