#!/usr/bin/env bash
# The first-run check: the commands a newcomer types in a set-up clone, as they type them (through
# npm and npx, not pnpm), good and bad. Each good one must work; each bad one must exit non-zero
# with exactly one line on stderr, and never a stack trace.
#
#   scripts/first-run-test.sh      (after `npm run setup`)
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d "${TMPDIR:-/tmp}/imbot-first-run.XXXXXX")"
trap 'rm -rf "$out"; [[ -n "${blocker:-}" ]] && kill "$blocker" 2>/dev/null || true' EXIT

# expect_failure <exit code> <stderr pattern> <command…>: the command fails as said, in one line.
expect_failure() {
  local code="$1" pattern="$2"
  shift 2
  local got=0
  "$@" >"$out/stdout" 2>"$out/all-stderr" || got=$?
  grep -v '^npm warn' "$out/all-stderr" >"$out/stderr" || true # npm's own warnings about its set-up
  local lines
  lines="$(wc -l <"$out/stderr")"
  if [[ "$got" != "$code" || "$lines" != 1 ]] || ! grep -qE "$pattern" "$out/stderr"; then
    echo "first run: \`$*\` exited $got (want $code) with $lines stderr lines (want 1 matching /$pattern/):" >&2
    cat "$out/stderr" >&2
    exit 1
  fi
  echo "first run: \`$*\` → exit $code: $(cat "$out/stderr")"
}

# The emulator's command, from the clone, through npx.
npx --no-install imbot-emulator --help | grep -q '^imbot-emulator: local Tencent Cloud Chat and RongCloud' ||
  { echo 'first run: npx imbot-emulator --help printed no usage' >&2; exit 1; }
echo 'first run: `npx imbot-emulator --help` prints its usage'
expect_failure 2 '^imbot-emulator: --port must be a whole number' npx --no-install imbot-emulator --port abc
expect_failure 2 "^imbot-emulator: Unknown option '--bogus'" npx --no-install imbot-emulator --bogus
# A port something else listens on.
node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))" >"$out/port" &
blocker=$!
for _ in $(seq 100); do [[ -s "$out/port" ]] && break; sleep 0.1; done
blocker_port="$(cat "$out/port")"
expect_failure 1 "^imbot-emulator: port $blocker_port on 127.0.0.1 is taken" \
  npx --no-install imbot-emulator --port "$blocker_port"

# The demo, through npm, as the README has it and as people mistype it. npm writes lines of its own
# when a script fails, so the demo's own words are checked with `--silent`, which keeps npm quiet.
npm run --silent demo -- --help | grep -q '^imbot demo:' || { echo 'first run: demo --help printed no usage' >&2; exit 1; }
echo 'first run: `npm run demo -- --help` prints its usage'
expect_failure 2 "^demo: Unknown option '--bogus'" npm run --silent demo -- --bogus
expect_failure 2 "^demo: Option '--once <value>' argument missing" npm run --silent demo -- --once
expect_failure 2 '^demo: --port is a port number' npm run --silent demo -- --port abc
expect_failure 2 '^demo: --cloud is tencent or rongcloud' npm run --silent demo -- --cloud slack
expect_failure 2 '^demo: --once starts an emulator of its own' npm run --silent demo -- --once hi --emulator http://127.0.0.1:5710
# --emulator where nothing listens (port 1 is never open to an unprivileged user here).
expect_failure 1 '^demo: nothing answers at http://127.0.0.1:1: start the emulator there' \
  npm run --silent demo -- --emulator http://127.0.0.1:1 --port 0
# Without `--`, npm keeps `--once` for itself and passes `hello` on; the demo takes it as meant.
npm run --silent demo --once hello >"$out/once" || { cat "$out/once" >&2; exit 1; }
grep -q '^(finished, streamed in' "$out/once" || { cat "$out/once" >&2; exit 1; }
echo 'first run: `npm run demo --once hello` (no --) asks hello and prints the finished reply'

# `npm run demo` stopped by its PID (as a process manager or `kill` does): npm ends the shell it ran
# the demo under, and the demo must notice and free its port rather than run on as an orphan.
npm run --silent demo -- --port 0 >"$out/demo-run" 2>&1 &
demo_npm=$!
for _ in $(seq 300); do grep -q '^Open the console: ' "$out/demo-run" && break; sleep 0.1; done
demo_url="$(sed -n 's/^Open the console: //p' "$out/demo-run")"
[[ -n "$demo_url" ]] || { cat "$out/demo-run" >&2; exit 1; }
kill -TERM "$demo_npm"
for _ in $(seq 100); do curl -s -o /dev/null "$demo_url" || break; sleep 0.1; done
if curl -s -o /dev/null "$demo_url"; then
  echo "first run: the demo still answers at $demo_url after \`npm run demo\` was killed" >&2
  exit 1
fi
echo 'first run: killing `npm run demo` by its PID stops the demo and frees its port'

# The starter on a clone not yet set up: it says so before it copies anything, so the same command
# works once `npm run setup` has run.
fake="$out/not-set-up"
mkdir -p "$fake/scripts" "$fake/examples/starter"
cp scripts/starter.mjs "$fake/scripts/"
cp examples/starter/package.json "$fake/examples/starter/"
expect_failure 1 '^starter: this checkout is not set up yet' node "$fake/scripts/starter.mjs" "$out/my-bot"
[[ ! -e "$out/my-bot" ]] || { echo 'first run: the starter copied files before saying the clone is not set up' >&2; exit 1; }
