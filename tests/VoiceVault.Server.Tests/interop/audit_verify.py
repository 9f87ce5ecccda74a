#!/usr/bin/env python3
"""An independent check of an audit chain (docs/audit.md), written from the document alone:
hashlib for SHA-256 and RFC 8785 (JCS) written here, not the vault's code.

  audit_verify.py export.jsonl [keys.json]
      an export of `voicevault audit export` (JSON Lines: a header, then the events oldest first with
      checkpoints after the events they sign), streamed: every hash links, no sequence is missing,
      every checkpoint (and the header's) is signed by a listed key and matches the chain.
  audit_verify.py events.json [checkpoint.json keys.json]
      events: a JSON array of audit events as the API serves them, oldest first, from sequence 1;
      checkpoint: a checkpoint as served, checked against the chain and its signature (ECDSA P-256,
      SHA-256, DER) under its key from keys (GET /v1/Audit/SigningKeys), with `cryptography`.
Prints the last sequence and hash and exits 0 when every event links (and the checkpoint holds);
otherwise names the first broken sequence and exits 1.
"""
import hashlib
import json
import sys


def jcs(value):
    """RFC 8785 for the values an audit event holds (strings, integers, booleans, null, objects, arrays)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise ValueError("integer outside the IEEE double's exact range")
        return str(value)
    if isinstance(value, str):
        out = ['"']
        for ch in value:
            code = ord(ch)
            if ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ch == "\b":
                out.append("\\b")
            elif ch == "\f":
                out.append("\\f")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif code < 0x20:
                out.append("\\u%04x" % code)
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        # Sorted by the names' UTF-16 code units.
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(value[k]) for k in keys) + "}"
    raise ValueError(f"not canonicalizable: {type(value).__name__}")


def main(path):
    events = json.load(open(path, encoding="utf-8"))
    previous = "0" * 64
    for expected, event in enumerate(events, start=1):
        if event["sequence"] != expected:
            sys.exit(f"sequence {expected}: found {event['sequence']} (missing or reordered)")
        if event["previous_hash"] != previous:
            sys.exit(f"sequence {expected}: previous_hash does not link to sequence {expected - 1}")
        served = {k: v for k, v in event.items() if k not in ("hash", "url")}
        digest = hashlib.sha256(bytes.fromhex(previous) + jcs(served).encode("utf-8")).hexdigest()
        if digest != event["hash"]:
            sys.exit(f"sequence {expected}: hash does not match the event (changed)")
        previous = digest
    print(len(events), previous)


def check_checkpoint(events, checkpoint_path, keys_path):
    checkpoint = json.load(open(checkpoint_path, encoding="utf-8"))
    sequence = checkpoint["sequence"]
    if sequence > len(events) or events[sequence - 1]["hash"] != checkpoint["hash"]:
        sys.exit(f"checkpoint at sequence {sequence}: its hash is not the chain's")
    check_signature(checkpoint, json.load(open(keys_path, encoding="utf-8"))["signing_keys"])


def verify_export(path, keys_path=None):
    """Streams an export; memory stays flat. Prints the count and the last hash."""
    with open(path, encoding="utf-8") as lines:
        header = json.loads(next(lines))
        if header.get("voicevault_audit_export") != 1:
            sys.exit("not an audit export")
        keys = json.load(open(keys_path, encoding="utf-8"))["signing_keys"] if keys_path else header["signing_keys"]
        account = header["account_sid"]
        target = header["checkpoint"]
        check_signature(target, keys)
        expected, previous, count = 1, "0" * 64, 0
        if header.get("anchor"):
            check_signature(header["anchor"], keys)
            expected, previous = header["anchor"]["sequence"] + 1, header["anchor"]["hash"]
        for line in lines:
            record = json.loads(line)
            if record["account_sid"] != account:
                sys.exit(f"sequence {record['sequence']}: from another account")
            if record["sid"].startswith("CP"):
                check_signature(record, keys)
                if record["sequence"] != expected - 1 or record["hash"] != previous:
                    sys.exit(f"checkpoint at sequence {record['sequence']}: does not match the chain")
                continue
            if record["sequence"] != expected:
                sys.exit(f"sequence {expected}: found {record['sequence']} (missing or reordered)")
            if record["previous_hash"] != previous:
                sys.exit(f"sequence {expected}: previous_hash does not link")
            served = {k: v for k, v in record.items() if k not in ("hash", "url")}
            digest = hashlib.sha256(bytes.fromhex(previous) + jcs(served).encode("utf-8")).hexdigest()
            if digest != record["hash"]:
                sys.exit(f"sequence {expected}: changed")
            previous, expected, count = digest, expected + 1, count + 1
        if expected - 1 != target["sequence"] or previous != target["hash"]:
            sys.exit(f"sequence {expected}: truncated or changed (the checkpoint signs {target['sequence']})")
    print(count, previous)


def check_signature(checkpoint, keys):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import base64

    key = next((k for k in keys if k["key_id"] == checkpoint["key_id"]), None)
    if key is None:
        sys.exit(f"checkpoint at sequence {checkpoint['sequence']}: key {checkpoint['key_id']} is not listed")
    public = serialization.load_pem_public_key(key["public_key"].encode("ascii"))
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if hashlib.sha256(spki).hexdigest()[:16] != checkpoint["key_id"]:
        sys.exit(f"key {checkpoint['key_id']}: its ID is not the SHA-256 of its public key")
    signed = {k: v for k, v in checkpoint.items() if k not in ("signature", "url")}
    try:
        public.verify(base64.b64decode(checkpoint["signature"]), jcs(signed).encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        sys.exit(f"checkpoint at sequence {checkpoint['sequence']}: bad signature")


if __name__ == "__main__":
    if sys.argv[1].endswith(".jsonl"):
        verify_export(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
        sys.exit(0)
    main(sys.argv[1])
    if len(sys.argv) == 4:
        check_checkpoint(json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2], sys.argv[3])
