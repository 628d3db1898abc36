#!/usr/bin/env bash
# The consumer test: what a user of the published packages gets. Packs every package as it would be
# published (pnpm pack, from no build: its prepack builds), checks each tarball (LICENSE and README in, no
# .tsbuildinfo, publint, attw's esm-only profile), installs the tarballs with npm into a fresh
# project outside the repository, then, on every Node given (default: the one on the PATH):
#   - imports each package and the core subpaths from ESM,
#   - require()s them from CommonJS (Node >= 20.19 loads ES modules from require),
#   - runs the `imbot-emulator` command,
# and type-checks a consumer under TypeScript's node16, nodenext and bundler resolutions. Last, the
# starter example is copied out and its own `npm test` runs against the tarballs on every Node.
#
#   scripts/consumer-test.sh [path/to/node ...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
nodes=("$@")
[[ ${#nodes[@]} -gt 0 ]] || nodes=("$(command -v node)")
work="$(mktemp -d "${TMPDIR:-/tmp}/imbot-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
bin="$root/node_modules/.bin"
packages=(core express-middleware botframework-adapter agents-adapter chat-adapter redis emulator)

echo "consumer test: packing into $work"
mkdir -p "$work/packs"
# From no build at all: each package's prepack must build it.
rm -rf "$root"/packages/*/dist
for name in "${packages[@]}"; do
  (cd "$root/packages/$name" && "$bin/pnpm" pack --pack-destination "$work/packs" >/dev/null)
done
for tarball in "$work"/packs/*.tgz; do
  listing="$(tar tzf "$tarball")"
  grep -qx 'package/LICENSE' <<<"$listing" || { echo "$tarball has no LICENSE" >&2; exit 1; }
  grep -qx 'package/README.md' <<<"$listing" || { echo "$tarball has no README.md" >&2; exit 1; }
  if grep -q 'tsbuildinfo\|\.test\.\|^package/src/' <<<"$listing"; then
    echo "$tarball ships build state, tests or sources:" >&2
    grep 'tsbuildinfo\|\.test\.\|^package/src/' <<<"$listing" >&2
    exit 1
  fi
  if tar xzOf "$tarball" package/README.md | grep -nP '\]\((?!https?://|#)'; then
    echo "$tarball: README links above are relative and break on the registry" >&2
    exit 1
  fi
  "$bin/publint" run --strict "$tarball" >/dev/null || { "$bin/publint" run --strict "$tarball"; exit 1; }
  "$bin/attw" --profile esm-only --quiet "$tarball" || { echo "attw found problems in $tarball" >&2; exit 1; }
done
echo "consumer test: $(ls "$work"/packs | wc -l) tarballs, each with LICENSE and README, none with .tsbuildinfo; absolute README links; publint and attw pass"

# A fresh project, outside the repository, installing the tarballs and the peers a user would add.
app="$work/app"
mkdir -p "$app"
cp "$root/scripts/consumer/"* "$app/"
(cd "$app" && npm install --no-audit --no-fund --loglevel=error "$work"/packs/*.tgz \
  express@5 botbuilder@4.23 @microsoft/agents-hosting@1 @microsoft/agents-activity@1 chat@4.41 \
  @opentelemetry/api@1.9 typescript@5.9 @types/node@20 @types/express@5 >/dev/null)

for node in "${nodes[@]}"; do
  version="$("$node" --version)"
  (cd "$app" && "$node" esm.mjs && "$node" cjs.cjs)
  (cd "$app" && PATH="$(dirname "$node"):$PATH" npx --no-install imbot-emulator --help | grep -q '^imbot-emulator: local Tencent Cloud Chat and RongCloud') ||
    { echo "node $version: imbot-emulator --help printed no usage" >&2; exit 1; }
  echo "consumer test: node $version imports every package from ESM and require(), and runs imbot-emulator"
done
for resolution in node16 nodenext bundler; do
  (cd "$app" && npx --no-install tsc -p "tsconfig.$resolution.json")
done
echo "consumer test: TypeScript type-checks a consumer under node16, nodenext and bundler"

# The starter, copied out as a user would, against the tarballs.
starter="$work/starter"
cp -r "$root/examples/starter" "$starter"
rm -rf "$starter/node_modules"
(cd "$starter" && npm install --no-audit --no-fund --loglevel=error \
  "$work"/packs/imbot-{core,express-middleware,emulator}-*.tgz >/dev/null)
for node in "${nodes[@]}"; do
  (cd "$starter" && PATH="$(dirname "$node"):$PATH" npm test --silent >"$work/starter.log" 2>&1) ||
    { cat "$work/starter.log"; exit 1; }
  echo "consumer test: node $("$node" --version): the starter, copied out, passes its own npm test"
done
