#!/usr/bin/env bash
# Mutation testing of the crypto core with Stryker.NET (the version pinned in dotnet-tools.json):
# the seven security-relevant files listed in tests/VoiceVault.Crypto.Tests/stryker-config.json,
# the Crypto suite without the 2 GiB tests. Not part of CI: a full run takes 10-15 minutes on two
# cores. Runs in a throwaway copy of the working tree (Stryker rewrites build outputs), so the
# tree you work in is left alone.
#   scripts/mutation.sh [FILE...]     FILE: e.g. ChunkPipeline.cs to mutate only that file
# Reports: mutation/report.html and mutation/report.json (the score per file), and the
# survivors as text in mutation/survivors.txt. docs/testing.md explains the survivors left.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
ensure_openssl
root=$(pwd)
work=$(mktemp -d /tmp/voicevault-mutation.XXXXXX)
trap 'rm -rf "$work"' EXIT
say "copying the working tree to $work"
copy_tree "$work"
cd "$work"
dotnet tool restore >/dev/null
args=()
for file in "$@"; do args+=(--mutate "**/$file"); done
say "Stryker.NET on the crypto core (10-15 minutes for all seven files)"
cd tests/VoiceVault.Crypto.Tests
dotnet tool run dotnet-stryker --config-file stryker-config.json "${args[@]}" --output "$work/out"
report=$(find "$work/out" -name 'mutation-report.json' | head -1)
mkdir -p "$root/mutation"
cp "$report" "$root/mutation/report.json"
cp "$(dirname "$report")/mutation-report.html" "$root/mutation/report.html"
"${VOICEVAULT_PYTHON:-python3}" - "$root/mutation/report.json" "$root/mutation/survivors.txt" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
lines, survivors = [], []
total_killed = total_valid = 0
for path, f in sorted(report["files"].items()):
    killed = sum(m["status"] in ("Killed", "Timeout") for m in f["mutants"])
    valid = sum(m["status"] in ("Killed", "Timeout", "Survived", "NoCoverage") for m in f["mutants"])
    if valid == 0:
        continue
    total_killed += killed; total_valid += valid
    name = path.split("/")[-1]
    lines.append(f"{name:28} {100 * killed / max(valid, 1):5.1f} %  ({killed} of {valid} killed)")
    source = f["source"].split("\n")
    for m in f["mutants"]:
        if m["status"] in ("Survived", "NoCoverage"):
            line = m["location"]["start"]["line"]
            survivors.append(f"{name}:{line} {m['status']} {m['mutatorName']}: {m.get('replacement', '')!r}\n    {source[line - 1].strip()}")
lines.append(f"{'all':28} {100 * total_killed / max(total_valid, 1):5.1f} %  ({total_killed} of {total_valid} killed)")
open(sys.argv[2], "w").write("\n".join(lines) + "\n\n" + "\n".join(survivors) + "\n")
print("\n".join(lines))
print(f"\n{len(survivors)} survivors: {sys.argv[2]}")
PY
