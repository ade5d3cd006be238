#!/usr/bin/env bash
# Installs the Debian packages needed to build, test and benchmark crossproc and minicoin.
# Idempotent: installs only what is missing. Run as root on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  capnproto libcapnp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  libseccomp-dev
  strace linux-perf valgrind
  libssl-dev libsecp256k1-dev
  libleveldb-dev libcpp-httplib-dev nlohmann-json3-dev libsqlite3-dev
  qt6-base-dev libgl-dev fonts-dejavu-core
  python3
)
# The JavaScript mining client's test needs Node.js and npm; use Debian's only if none is there.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
