# What the service benchmarks share: build the programs, stop what they started, wait for HTTP,
# and give the vault an account key with encryption on. Source after scripts/lib.sh.

# build PROJECT...: Release builds, quietly.
build() { say "building"; for p in "$@"; do dotnet build "$p" -c Release --nologo -v quiet; done; }

# Processes started in the background (pids+=($!)) are stopped when the script ends.
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# install_tool: packs voicevault and installs it as users get it (native AOT on linux-x64) into
# bench/out/tool; prints the command's path.
install_tool() {
  ./scripts/pack-cli.sh >/dev/null
  rm -rf bench/out/tool
  local cache
  cache=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
  rm -rf "$cache/voicevault" "$cache/voicevault.any" "$cache/voicevault.linux-x64"
  dotnet tool install --tool-path bench/out/tool --add-source artifacts/packages voicevault >/dev/null
  echo bench/out/tool/voicevault
}

wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer from $1" >&2; exit 1; }

# enable_encryption BASE_URL AC TOKEN DIR: a fresh RSA-2048 key, registered and configured.
enable_encryption() {
  openssl genrsa -out "$4/key.pem" 2048 2>/dev/null; openssl pkey -in "$4/key.pem" -pubout -out "$4/key.pub"
  local cr
  cr=$(curl -s -u "$2:$3" "$1/v1/Credentials/PublicKeys" --data-urlencode "PublicKey@$4/key.pub" | sed 's/.*"sid":"\(CR[0-9a-f]*\)".*/\1/')
  curl -s -u "$2:$3" "$1/2010-04-01/Accounts/$2/RecordingEncryption.json" -d Enabled=true -d "PublicKeySid=$cr" >/dev/null
}
