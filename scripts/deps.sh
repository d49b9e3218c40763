#!/usr/bin/env bash
# Installs the Debian 12 packages vidid builds and runs with, only when some
# are missing (a warm machine pays nothing). Needs root (or sudo) for apt.
set -euo pipefail
pkgs=(
  build-essential pkg-config ca-certificates curl
  libdlib-dev libdlib-data libatlas-base-dev libblas-dev liblapack-dev libopenblas-dev
  libopencv-dev opencv-data libjpeg-dev libpng-dev
  libvpx-dev ffmpeg
  postgresql
  chromium chromium-driver
  openssl
)
missing=()
# npm (model packages from the npm registry) may come from Node.js outside apt.
command -v npm >/dev/null || pkgs+=(npm)
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = "installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#pkgs[@]} system packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "deps: these Debian packages are missing and installing them needs root:" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
