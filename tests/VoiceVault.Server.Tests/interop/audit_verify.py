#!/usr/bin/env python3
"""An independent check of an audit chain (docs/audit.md), written from the document alone:
hashlib for SHA-256 and RFC 8785 (JCS) written here, not the vault's code.

  audit_verify.py events.json     events: a JSON array of audit events as the API serves them,
                                  oldest first, starting at sequence 1
Prints the last sequence and hash and exits 0 when every event links; otherwise names the first
broken sequence and exits 1.
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


if __name__ == "__main__":
    main(sys.argv[1])
