#!/usr/bin/env python3
"""Encrypt a recording the way the platform (Twilio) does, with Python's `cryptography` package:
a fresh 32-byte CEK and 12-byte IV, AES-256-GCM over the whole file (ciphertext || tag), the CEK
wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256). Writes the callback-shaped EncryptionDetails.

usage: platform_encrypt.py PUBLIC.pem INPUT OUTPUT DETAILS.json [KEY_SID] [--cek-hex HEX]
An independent implementation of docs/format.md: it shares no code with VoiceVault."""
import base64, json, os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

args = [a for a in sys.argv[1:] if not a.startswith("--")]
public_path, input_path, output_path, details_path = args[:4]
sid = args[4] if len(args) > 4 else "CR" + "0" * 32
cek = bytes.fromhex(sys.argv[sys.argv.index("--cek-hex") + 1]) if "--cek-hex" in sys.argv else os.urandom(32)
iv = os.urandom(12)
with open(public_path, "rb") as f:
    public_key = serialization.load_pem_public_key(f.read())
with open(input_path, "rb") as f:
    plaintext = f.read()
with open(output_path, "wb") as f:
    f.write(AESGCM(cek).encrypt(iv, plaintext, None))
wrapped = public_key.encrypt(cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
with open(details_path, "w") as f:
    json.dump({"type": "rsa-aes", "public_key_sid": sid,
               "encrypted_cek": base64.b64encode(wrapped).decode(), "iv": base64.b64encode(iv).decode()}, f)
