#!/usr/bin/env bash
# PKCS#11 unwraps per second against in-process RSA-OAEP-SHA256, measured in the same run: a
# throwaway SoftHSM2 token (OAEP decoded on the host over the token's raw RSA, as SoftHSM2 2.6
# needs) and openCryptoki's software token (the whole OAEP-SHA256 unwrap in the token; the token is
# wiped and re-initialised). Keys are made fresh in each token. Results: bench/out/pkcs11.md.
# Options: COUNT=2000 BITS=3072
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
COUNT=${COUNT:-2000}; BITS=${BITS:-3072}
command -v softhsm2-util >/dev/null || apt_install softhsm2
command -v pkcs11-tool >/dev/null || apt_install opensc
ensure_opencryptoki
out=bench/out/pkcs11; rm -rf "$out"; mkdir -p "$out/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$PWD/$out/tokens" > "$out/softhsm2.conf"
export SOFTHSM2_CONF=$PWD/$out/softhsm2.conf
pin=$(openssl rand -hex 4)   # openCryptoki takes PINs of 4 to 8 characters
printf '%s\n' "$pin" > "$out/pin"; chmod 600 "$out/pin"
softhsm2-util --init-token --free --label bench --pin "$pin" --so-pin "$(openssl rand -hex 8)" >/dev/null
ock=/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so
pkcs11-tool --module "$ock" --slot 3 --init-token --so-pin 87654321 --label bench >/dev/null 2>&1
pkcs11-tool --module "$ock" --slot 3 --login --login-type so --so-pin 87654321 --init-pin --new-pin "$pin" >/dev/null 2>&1
say "building"
dotnet build bench/Pkcs11.Unwrap -c Release --nologo -v quiet
say "$COUNT unwraps per key, RSA-$BITS"
{
  echo "# PKCS#11 unwraps per second ($(date -u +%Y-%m-%d), $COUNT unwraps, RSA-$BITS, one session, one at a time)"
  echo
  dotnet bench/Pkcs11.Unwrap/bin/Release/net10.0/Pkcs11.Unwrap.dll "$COUNT" "$BITS" \
    "SoftHSM2 $(dpkg-query -W -f '${Version}' softhsm2)=pkcs11:token=bench;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=$PWD/$out/pin|host" \
    "openCryptoki $(dpkg-query -W -f '${Version}' opencryptoki) soft token=pkcs11:token=bench;object=k?module-path=$ock&pin-source=$PWD/$out/pin"
} | tee "$out.md"
