#!/usr/bin/env bash
# Install the Debian packages the project needs, or, without root, name them and stop.
#   scripts/system-packages.sh run    what serving the site needs (WeasyPrint, fonts, venv, npm)
#   scripts/system-packages.sh test   that, plus what the tests start (PostgreSQL, Redis, Chromium, pdftotext)
#   scripts/system-packages.sh bench  that, plus the load generator the benchmarks drive the site with (wrk)
set -euo pipefail

run_packages=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-dejavu-core nodejs npm)
test_packages=(postgresql redis-server chromium poppler-utils)
bench_packages=(wrk)

wanted=("${run_packages[@]}")
case "${1:-run}" in
  test) wanted+=("${test_packages[@]}") ;;
  bench) wanted+=("${test_packages[@]}" "${bench_packages[@]}") ;;
esac

# Tools that may come from elsewhere (pyenv, NodeSource): present on PATH counts as installed.
provided_by_path() {
  case "$1" in
    python3-venv) python3 -c 'import ensurepip' 2>/dev/null ;;
    nodejs) command -v node >/dev/null ;;
    npm) command -v npm >/dev/null ;;
    *) return 1 ;;
  esac
}

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || provided_by_path "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "缺少系统软件包 / missing system packages: ${missing[*]}" >&2
  echo "Install them, then run make again:" >&2
  echo "    sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
