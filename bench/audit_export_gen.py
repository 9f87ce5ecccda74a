#!/usr/bin/env python3
"""Writes a `voicevault audit export` of N events (docs/audit.md), for bench/audit.sh: a chain as
the vault makes it (media reads of recordings by a few readers, every field served), hashed with
hashlib and the JCS of tests/…/interop/audit_verify.py, a checkpoint every 10,000 events and one at
the end, signed with a fresh ECDSA P-256 key (Python's cryptography). Independent of the vault's code.

  audit_export_gen.py N OUT.jsonl KEYS.json
"""
import base64
import hashlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "VoiceVault.Server.Tests", "interop"))
from audit_verify import jcs  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402


def main(n, out, keys_path):
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = hashlib.sha256(spki).hexdigest()[:16]
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    keys = [{"key_id": key_id, "public_key": pem, "date_created": "2026-12-01T00:00:00.000Z", "status": "active"}]
    account = "AC" + os.urandom(16).hex()
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)

    def checkpoint(sequence, digest, i):
        c = {"sid": "CP" + os.urandom(16).hex(), "account_sid": account, "sequence": sequence, "hash": digest,
             "date_created": (start + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "key_id": key_id}
        c["signature"] = base64.b64encode(key.sign(jcs(c).encode("utf-8"), ec.ECDSA(hashes.SHA256()))).decode("ascii")
        c["url"] = f"/v1/Accounts/{account}/AuditCheckpoints/{c['sid']}"
        return c

    readers = ["AC" + os.urandom(16).hex() for _ in range(3)] + ["SK" + os.urandom(16).hex() for _ in range(3)]
    recordings = ["RE" + os.urandom(16).hex() for _ in range(1000)]
    lines, previous, middle = [], "0" * 64, []
    for i in range(1, n + 1):
        sid = "AE" + os.urandom(16).hex()
        event = {"sid": sid, "account_sid": account, "sequence": i,
                 "date_created": (start + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                 "action": "recording.media.read", "actor_type": "api_key" if i % 2 else "account", "actor_sid": readers[i % len(readers)],
                 "resource_sid": recordings[i % len(recordings)], "source_ip": f"198.51.100.{i % 250}", "request_id": f"0HN{i:012X}:00000001",
                 "outcome": "success", "details": {"delivery": "bytes", "offset": 0, "count": 480044, "size": 480044},
                 "previous_hash": previous}
        previous = hashlib.sha256(bytes.fromhex(previous) + jcs(event).encode("utf-8")).hexdigest()
        event["hash"] = previous
        event["url"] = f"/v1/Accounts/{account}/AuditEvents/{sid}"
        lines.append(json.dumps(event, separators=(",", ":")))
        if i % 10000 == 0 and i < n:
            lines.append(json.dumps(checkpoint(i, previous, i), separators=(",", ":")))
    final = checkpoint(n, previous, n)
    header = {"voicevault_audit_export": 1, "account_sid": account, "checkpoint": final, "anchor": None, "signing_keys": keys}
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(header, separators=(",", ":")) + "\n")
        for line in lines:
            f.write(line + "\n")
        f.write(json.dumps(final, separators=(",", ":")) + "\n")
    json.dump({"signing_keys": keys}, open(keys_path, "w", encoding="utf-8"))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
