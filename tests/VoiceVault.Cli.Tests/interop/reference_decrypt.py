#!/usr/bin/env python3
"""Decrypt an rsa-aes recording the way Twilio's Python sample does: unwrap the CEK with
RSA-OAEP-SHA256, then a chunked AES-256-GCM decryptor loop from the `cryptography` package,
the tag taken from the last 16 bytes. Also the reference for the benchmarks.

usage: reference_decrypt.py PRIVATE.pem DETAILS.json INPUT OUTPUT [--chunk BYTES] [--cek-hex HEX]
Accepts the REST (encryption_cek / iv or encryption_iv) and callback (encrypted_cek) spellings."""
import base64, json, os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

args = [a for a in sys.argv[1:] if not a.startswith("--")]
private_path, details_path, input_path, output_path = args[:4]
chunk = int(sys.argv[sys.argv.index("--chunk") + 1]) if "--chunk" in sys.argv else 16 * 1024
with open(details_path) as f:
    details = json.load(f)
details = details.get("encryption_details", details)
iv = base64.b64decode(details.get("iv") or details.get("encryption_iv"))
if "--cek-hex" in sys.argv:
    cek = bytes.fromhex(sys.argv[sys.argv.index("--cek-hex") + 1])
else:
    with open(private_path, "rb") as f:
        private_key = serialization.load_pem_private_key(f.read(), password=None)
    wrapped = base64.b64decode(details.get("encrypted_cek") or details.get("encryption_cek"))
    cek = private_key.decrypt(wrapped, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
size = os.path.getsize(input_path)
with open(input_path, "rb") as f:
    f.seek(size - 16)
    tag = f.read(16)
    f.seek(0)
    decryptor = Cipher(algorithms.AES(cek), modes.GCM(iv, tag)).decryptor()
    remaining = size - 16
    with open(output_path, "wb") as out:
        while remaining > 0:
            data = f.read(min(chunk, remaining))
            remaining -= len(data)
            out.write(decryptor.update(data))
        decryptor.finalize()
