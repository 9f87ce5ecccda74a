# Shared by the project's scripts: checks and installs of what they need. Source it, don't run it.

say() { printf '\n== %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "need the Debian packages: $*; run as root, or: sudo apt-get install -y $*" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

require_dotnet() {
  if ! command -v dotnet >/dev/null; then
    echo "the .NET 10 SDK is needed: https://dotnet.microsoft.com/download (dotnet not found on PATH)" >&2
    exit 1
  fi
  local major
  major=$(dotnet --version | cut -d. -f1)
  if [ "$major" -lt 10 ]; then
    echo "the .NET 10 SDK is needed; found $(dotnet --version)" >&2
    exit 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
}

ensure_openssl() {
  command -v openssl >/dev/null || apt_install openssl
}

# Python with the `cryptography` package: the one on PATH if it has it, else Debian's.
ensure_python_cryptography() {
  local candidate
  for candidate in "${VOICEVAULT_PYTHON:-}" python3 /usr/bin/python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null && "$candidate" -c 'import cryptography' 2>/dev/null; then
      VOICEVAULT_PYTHON=$(command -v "$candidate")
      export VOICEVAULT_PYTHON
      return
    fi
  done
  apt_install python3 python3-cryptography
  VOICEVAULT_PYTHON=/usr/bin/python3
  export VOICEVAULT_PYTHON
}

# copy_tree DIR: the working tree's files (tracked, and untracked ones git does not ignore) into
# DIR, for tools that rewrite sources or build outputs there (mutation testing).
copy_tree() { git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$1"; }

# openCryptoki's software token (slot 3), the PKCS#11 token here that runs OAEP-SHA256 inside
# itself: installed if missing, its directories made, its slot daemon started if not running.
ensure_opencryptoki() {
  command -v pkcsslotd >/dev/null || apt_install opencryptoki
  if command -v systemd-tmpfiles >/dev/null; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/opencryptoki.conf >/dev/null 2>&1 || true
  fi
  pgrep -x pkcsslotd >/dev/null || pkcsslotd
}
