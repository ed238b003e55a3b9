#!/usr/bin/env bash
# End-to-end tests with client libraries from other languages, through the
# example web tier (examples/python/server.py) on the local engine:
#   - openid-client (npm): discovery, code flow with PKCE and nonce, ID token,
#     userinfo, refresh, prompt=none, denied consent, PAR, DPoP with a nonce
#     round trip; the device flow
#     (RFC 8628) allowed and denied on the verification page while the library
#     polls; dynamic client registration (RFC 7591), then the new client's code
#     flow and client_credentials;
#   - a Node resource server on @grpc/grpc-js against IntrospectionService;
#   - authlib (PyPI): client_credentials, password, introspection, revocation;
#     requests: RFC 7592 client management (read, update, delete, then the
#     deleted client is invalid_client); the web tier's own pages;
#   - the web tier's plain 500 once the service is paused, then stopped (last).
# The engine runs examples/python/engine.toml with the picked port as issuer and
# a 1 s device polling interval. The last line is "cross-language: N passed, M failed".
# Installs its own packages (pinned): a venv in tests/cross-language/.venv and
# node_modules from the committed package-lock.json. Needs python3 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/cross-language

echo "== cross-language: packages"
venv=$dir/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$dir/python/requirements.txt"
(cd "$dir/node" && npm ci --no-audit --no-fund --loglevel=error)
PYTHON="$venv/bin/python" examples/python/gen_stubs.sh

echo "== cross-language: build the service"
cargo build --locked --bin authlete-grpc
target_dir=$(cargo metadata --format-version 1 --no-deps |
  "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin=$target_dir/debug/authlete-grpc
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }

free_port() {
  "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() { # port, pid, name: bounded wait for a listener
  local deadline=$((SECONDS + 30))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || { echo "$3 exited; its log:" >&2; cat "$work/$3.log" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "$3 did not listen on $1 within 30 s" >&2; exit 1; }
    sleep 0.1
  done
}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && kill -CONT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

grpc_port=$(free_port)
web_port=$(free_port)
while [ "$web_port" = "$grpc_port" ]; do web_port=$(free_port); done
export AS_URL="http://127.0.0.1:$web_port" GRPC_ADDR="127.0.0.1:$grpc_port"
# The example's engine settings, with the issuer of the port picked here and a
# 1 s device polling interval (the device flow tests wait for one interval per poll).
sed -e "s|^issuer = .*|issuer = \"$AS_URL\"|" \
  -e "s|^device_polling_interval = .*|device_polling_interval = 1|" \
  examples/python/engine.toml >"$work/engine.toml"
grep -q '^device_polling_interval = 1$' "$work/engine.toml" || { echo "engine.toml: no device_polling_interval" >&2; exit 1; }

RUST_LOG=warn "$bin" --backend local --local-config "$work/engine.toml" --listen "$GRPC_ADDR" \
  >"$work/engine.log" 2>&1 &
pids+=($!)
export ENGINE_PID=$!
wait_port "$grpc_port" "$ENGINE_PID" engine
"$venv/bin/python" examples/python/server.py --host 127.0.0.1 --port "$web_port" --grpc "$GRPC_ADDR" \
  --grpc-timeout 3 >"$work/web.log" 2>&1 &
pids+=($!)
wait_port "$web_port" "$!" web

status=0
echo "== cross-language: node --test (openid-client, @grpc/grpc-js resource server)"
(cd "$dir/node" && timeout 300 node --test --test-reporter=spec openid-client.test.mjs resource-server.test.mjs) | tee "$work/node.out" || status=1
echo "== cross-language: pytest (authlib, RFC 7592 management, the web tier's pages, the service paused and stopped)"
timeout 300 "$venv/bin/python" -m pytest -p no:cacheprovider -q "$dir/python" | tee "$work/pytest.out" || status=1

count() { grep -aoP "$1" "$2" | tail -1 || true; } # the runners' summary lines
node_pass=$(count '\spass \K\d+$' "$work/node.out")
node_fail=$(count '\sfail \K\d+$' "$work/node.out")
py_pass=$(count '\d+(?= passed)' "$work/pytest.out")
py_fail=$(count '\d+(?= failed)' "$work/pytest.out")
if [ "${node_pass:-0}" = 0 ] || [ "${py_pass:-0}" = 0 ]; then status=1; fi
if [ $status != 0 ]; then
  echo "-- web tier log"; cat "$work/web.log"; echo "-- engine log"; cat "$work/engine.log"
fi
echo "cross-language: $((${node_pass:-0} + ${py_pass:-0})) passed, $((${node_fail:-0} + ${py_fail:-0})) failed"
exit $status
