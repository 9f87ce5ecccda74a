#!/usr/bin/env bash
# voicevault audit verify against its target (docs/audit.md): an export of EVENTS events (default
# 1,000,000, and one of a tenth of it to show memory stays flat), written by bench/audit_export_gen.py
# (Python: hashlib, its own JCS, cryptography's ECDSA — not the vault's code), verified ROUNDS times
# by the tool as users get it (native AOT): median events/s and peak RSS; then the same export by
# the independent Python check (tests/…/interop/audit_verify.py). Results: bench/out/audit.md.
# Options: EVENTS=1000000 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
ensure_python_cryptography
EVENTS=${EVENTS:-1000000}; ROUNDS=${ROUNDS:-3}
out=bench/out/audit; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
[ -x /usr/bin/time ] || apt_install time
say "packing and installing voicevault as users get it (native AOT)"
tool=$(install_tool)
small=$((EVENTS / 10))
for n in "$small" "$EVENTS"; do
  say "writing an export of $n events (Python)"
  "$VOICEVAULT_PYTHON" bench/audit_export_gen.py "$n" "$out/export-$n.jsonl" "$out/keys-$n.json"
done
run() { # n → "seconds rss_kb"
  /usr/bin/time -f "%e %M" -o "$out/time" "$tool" audit verify "$out/export-$1.jsonl" --signing-keys "$out/keys-$1.json" >"$out/verify-$1.log" 2>&1
  cat "$out/time"
}
declare -A secs rss
for r in $(seq 1 "$ROUNDS"); do
  for n in "$small" "$EVENTS"; do
    read -r s m < <(run "$n")
    secs[$n]+="$s "; rss[$n]+="$m "
    say "round $r: $n events in $s s, peak RSS $m KB"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
say "the same export by the independent Python check"
/usr/bin/time -f "%e %M" -o "$out/time-python" "$VOICEVAULT_PYTHON" tests/VoiceVault.Server.Tests/interop/audit_verify.py "$out/export-$EVENTS.jsonl" "$out/keys-$EVENTS.json" >"$out/python.log"
read -r pys pym < "$out/time-python"
{
  echo "# audit verify — $(date -u +%Y-%m-%d), $(nproc) cores"
  echo
  echo "| export | size | median time (of $ROUNDS) | events/s | peak RSS |"
  echo "|---|---|---|---|---|"
  for n in "$small" "$EVENTS"; do
    t=$(echo "${secs[$n]}" | median); m=$(echo "${rss[$n]}" | median)
    printf '| %s events | %s MB | %s s | %.0f | %.0f MB |\n' "$n" "$(( $(stat -c %s "$out/export-$n.jsonl") / 1000000 ))" "$t" "$(echo "$n / $t" | bc -l)" "$(echo "$m / 1024" | bc -l)"
  done
  printf '| %s events, Python check | | %s s | %.0f | %.0f MB |\n' "$EVENTS" "$pys" "$(echo "$EVENTS / $pys" | bc -l)" "$(echo "$pym / 1024" | bc -l)"
  echo
  echo "Target: ≥ 100,000 events/s for $EVENTS events, memory flat (the RSS of both sizes alike). Tool: $(head -1 "$out/verify-$EVENTS.log" | cut -c1-80)…; Python: $(cat "$out/python.log")"
} | tee "$out/../audit.md"
