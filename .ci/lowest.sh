#!/usr/bin/env bash
# The lowest versions pyproject.toml allows, proven to work: a venv of its own (.venv-lowest)
# with every runtime dependency at its declared lower bound (uv's lowest-direct resolution;
# what they pull in resolves as usual), the test tools at their usual resolution, wheels only.
# Then the unit suite, and one start of the service as `make run` starts it (gunicorn, the
# embedded Valkey): a count, a badge, a stop by SIGTERM that leaves no process behind.
# The locks (requirements*.txt) stay what every other install uses. Run by .ci/run, or
# `make test-lowest`; needs uv (.venv's, from requirements-dev.txt) and PYTHON (python3).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
uv=${UV:-.venv/bin/uv}
# Not passed on to the tests: test_makefile's dry runs of make would take them for settings.
unset PYTHON UV VENV BIN
venv=.venv-lowest
bin=$venv/bin
started=$SECONDS

rm -rf "$venv"
"$python" -m venv --without-pip "$venv"
# The unit suite's test tools, as pyproject.toml's dev extra declares them (one place).
"$bin/python" - >"$venv/test.in" <<'EOF'
import re, tomllib
wanted = {"pytest", "pytest-django", "fakeredis", "hypothesis", "openapi-spec-validator"}
with open("pyproject.toml", "rb") as f:
    dev = tomllib.load(f)["project"]["optional-dependencies"]["dev"]
print("\n".join(d for d in dev if re.match(r"[\w.-]+", d).group(0) in wanted))
EOF
compile=("$uv" pip compile --quiet --no-header --python "$bin/python")
"${compile[@]}" pyproject.toml --resolution lowest-direct -o "$venv/runtime.txt"
"${compile[@]}" "$venv/test.in" -c "$venv/runtime.txt" -o "$venv/test.txt"
echo "lowest runtime versions:" $(grep -E '^[a-z]' "$venv/runtime.txt" | tr '\n' ' ')
# Wheels only, as for a user: a lower bound without a wheel for this Python fails here.
"$uv" pip install --quiet --python "$bin/python" --only-binary :all: --no-deps \
  -r "$venv/runtime.txt" -r "$venv/test.txt"
"$uv" pip check --python "$bin/python"

echo "+ unit suite on the lowest versions"
"$bin/python" -m pytest tests/unit -q -p no:cacheprovider

echo "+ one start of the service on the lowest versions"
data_dir=$(mktemp -d /tmp/visitorsite-lowest.XXXXXX)
port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$data_dir.log
master=
cleanup() {
  if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then kill -KILL "$master"; fi
  if [ -s "$data_dir/redis.pid" ]; then kill -KILL "$(cat "$data_dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$data_dir" "$log"
}
trap cleanup EXIT
fail() {
  echo "lowest versions: $*" >&2
  cat "$log" >&2
  exit 1
}
BIND=127.0.0.1:$port DATA_DIR=$data_dir SECRET_KEY=lowest-versions-check-$RANDOM$RANDOM \
  WEB_CONCURRENCY=2 "$bin/gunicorn" -c gunicorn.conf.py visitorsite.wsgi >"$log" 2>&1 &
master=$!
get() { "$bin/python" -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    sys.stdout.write(r.headers.get_content_type() + "\n" + r.read().decode())' "$1"; }
for _ in $(seq 100); do
  answer=$(get "http://127.0.0.1:$port/count" 2>/dev/null) && break
  kill -0 "$master" 2>/dev/null || fail "gunicorn exited before it answered"
  sleep 0.2
done
[[ ${answer:-} == $'text/plain\nVisitor count: '[0-9]* ]] || fail "/count answered: ${answer:-nothing}"
echo "/count: ${answer#*$'\n'}"
badge=$(get "http://127.0.0.1:$port/badge/lowest/check.svg") || fail "the badge failed"
[[ $badge == image/svg+xml$'\n'*'<svg'* ]] || fail "the badge is no SVG: ${badge:0:200}"
echo "/badge/lowest/check.svg: an SVG of ${#badge} characters"
metrics=$(get "http://127.0.0.1:$port/metrics") || fail "/metrics failed"
grep '^visitorsite_data_version' <<<"$metrics" || fail "/metrics names no data versions"
server=$(cat "$data_dir/redis.pid" 2>/dev/null) || fail "no embedded server's pid file"
children=$(ps -o pid= --ppid "$master" | xargs)  # its workers and the embedded server
kill -TERM "$master"
status=0
wait "$master" || status=$?
[ "$status" -eq 0 ] || fail "gunicorn exited $status on SIGTERM"
master=
for pid in $server $children; do
  if kill -0 "$pid" 2>/dev/null; then fail "process $pid is left after the stop"; fi
done
sed 's/^/  | /' "$log"
! grep -E "Traceback|ERROR" "$log" || fail "errors in the log"
echo "stopped: gunicorn and its processes ($children; the embedded server: $server) are gone"
echo "lowest versions: passed in $((SECONDS - started)) s"
