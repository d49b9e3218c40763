#!/usr/bin/env bash
# Installs the npm packages the browser tests inject into pages (axe-core),
# pinned with their integrity in web/testdata/axe/package-lock.json, into the
# git-ignored var/node/ (nothing of theirs is committed). A warm machine
# whose var/node matches the lock file pays nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/web/testdata/axe
dest=${VIDID_NODE_DIR:-$here/var/node}
command -v npm >/dev/null || { echo "npm-deps: npm not found (make deps installs it)" >&2; exit 1; }
mkdir -p "$dest"
if cmp -s "$src/package-lock.json" "$dest/package-lock.json" && [ -f "$dest/node_modules/axe-core/axe.min.js" ]; then
  echo "npm-deps: axe-core present in $dest"
  exit 0
fi
cp -f "$src/package.json" "$src/package-lock.json" "$dest/"
(cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --silent)
echo "npm-deps: installed $(cd "$dest" && node -p 'require("axe-core/package.json").version' 2>/dev/null || echo axe-core) into $dest"
