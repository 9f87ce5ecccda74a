#!/usr/bin/env bash
# The toolkit benchmark, one command: decrypt and encrypt of 1 GiB and 4 GiB recordings against
# `cp` of the same file and against the chunked Python `cryptography` loop of Twilio's sample,
# plus a batch of 1,000 30-second recordings with 1 and 2 workers. Results: bench/out/results.md.
# Needs ~16 GB of free disk under bench/out and the page cache to hold the files (24 GiB here).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
ensure_openssl
ensure_python_cryptography
[ -x /usr/bin/time ] || apt_install time
. bench/lib.sh
say "packing and installing the tool as users get it (bench/out/tool)"
install_tool >/dev/null
trap - EXIT
exec "$VOICEVAULT_PYTHON" bench/toolkit_bench.py --tool bench/out/tool/voicevault --work bench/out "$@"
