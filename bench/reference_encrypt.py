#!/usr/bin/env python3
"""Encrypt a file into the rsa-aes format with a chunked `cryptography` AES-256-GCM loop: the
encrypt-side twin of tests/VoiceVault.Cli.Tests/interop/reference_decrypt.py, for the benchmark.

usage: reference_encrypt.py PUBLIC.pem INPUT OUTPUT [--chunk BYTES]"""
import os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

args = [a for a in sys.argv[1:] if not a.startswith("--")]
public_path, input_path, output_path = args[:3]
chunk = int(sys.argv[sys.argv.index("--chunk") + 1]) if "--chunk" in sys.argv else 16 * 1024
with open(public_path, "rb") as f:
    public_key = serialization.load_pem_public_key(f.read())
cek, iv = os.urandom(32), os.urandom(12)
public_key.encrypt(cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
encryptor = Cipher(algorithms.AES(cek), modes.GCM(iv)).encryptor()
with open(input_path, "rb") as f, open(output_path, "wb") as out:
    while data := f.read(chunk):
        out.write(encryptor.update(data))
    out.write(encryptor.finalize())
    out.write(encryptor.tag)
