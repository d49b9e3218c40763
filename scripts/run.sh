#!/usr/bin/env bash
# `make run`: migrate, seed the demo register, then serve vidid and the
# reference CA until Ctrl-C. Called by the Makefile after build/models/db.
set -euo pipefail
bin=$1 addr=$2 ca_addr=$3
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export VIDID_DATABASE_URL=${VIDID_DATABASE_URL:-$(scripts/pg.sh url)}
data=${VIDID_DATA:-$here/../shared/data}
mkdir -p var/secrets

"$bin" migrate
if [ -d "$data/faces" ]; then
  "$bin" register seed --data "$data" --limit "${VIDID_SEED_LIMIT:-300}"
else
  echo "run: no demo data at $data (set VIDID_DATA); the register stays as it is" >&2
fi

# A demo moderator account; its token stays in var/secrets (git-ignored).
"$bin" moderator add --name "Demo moderator" --token-file var/secrets/demo-moderator-token >/dev/null

"$bin" ca serve --addr "$ca_addr" --issuer-url "http://$addr" &
ca_pid=$!
trap 'kill $ca_pid 2>/dev/null; wait $ca_pid 2>/dev/null || true' EXIT INT TERM

echo
echo "  vidid      http://$addr/          (demo relying party: pick an IIN, start a session)"
echo "  CA         http://$ca_addr/"
echo "  moderation http://$addr/moderation   (sign in with the token in var/secrets/demo-moderator-token)"
echo "  metrics    http://$addr/metrics   readiness http://$addr/readyz"
echo
"$bin" serve --addr "$addr" --ca-url "http://$ca_addr" --demo
