#!/usr/bin/env bash
# Regenerates docs/console/*.png, a screenshot of every console page with data in it: the
# accessibility test's walk (a throwaway vault, its own accounts, keys and recordings) run with
# VOICEVAULT_SCREENSHOTS set. Installs Debian's Chromium if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
[ -n "${VOICEVAULT_CHROMIUM:-}" ] || command -v chromium >/dev/null || apt_install chromium
dotnet build tests/VoiceVault.Server.Tests -c Release --nologo -v quiet
rm -rf docs/console && mkdir -p docs/console
VOICEVAULT_SCREENSHOTS="$PWD/docs/console" dotnet test tests/VoiceVault.Server.Tests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~ConsoleAccessibilityTests.Every_page_passes_axe"
say "screenshots written to docs/console/"
ls docs/console
