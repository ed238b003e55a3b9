#!/usr/bin/env bash
# End-to-end tests with client libraries from other languages, through each
# example web tier on the local engine: examples/python/server.py (gRPC) and
# examples/php/index.php (Connect JSON, no gRPC library), one after the other,
# each with an engine of its own whose issuer is that web tier, and beside it
# the Ruby resource server examples/ruby/server.rb (Connect JSON). The same suites
# run against both web tiers (AS_URL):
#   - openid-client (npm): discovery, code flow with PKCE and nonce, ID token,
#     userinfo, refresh, prompt=none, denied consent, PAR, DPoP with a nonce
#     round trip, request objects (RFC 9101) by value and pushed; the device flow
#     (RFC 8628) allowed and denied on the verification page while the library
#     polls; dynamic client registration (RFC 7591), then the new client's code
#     flow and client_credentials;
#   - authlib (PyPI): client_credentials, password, introspection, revocation;
#     a CIBA poll flow, the user approving on the web tier's device endpoint;
#     requests: RFC 7592 client management (read, update, delete, then the
#     deleted client is invalid_client); the web tier's own pages; the Ruby
#     resource server's 200, 401 and 403 (RS_URL);
#   - the web tier's plain 500 once the service is paused, then stopped (last).
# Then authlete-django (PyPI, Authlete's reference handlers) against the
# service on the Authlete backend, both on one recording fake Authlete: the
# same `http` for the same Authlete replies, or a named difference.
# Once, with the Python run: a Node resource server on @grpc/grpc-js against
# IntrospectionService, and the official Connect client (@connectrpc/connect-node,
# code generated from proto/ by protoc-gen-es through `buf generate`) on the
# service's port: Token, Introspection, an authorization code flow and the
# streaming TokenList, JSON and binary, HTTP/1.1 and HTTP/2. The PHP run's engine authenticates its callers with keys
# (the web tier's may call what a web tier needs, the resource server's only
# Introspection), which the PHP web tier and the Ruby resource server send.
# The engine runs examples/python/engine.toml with the picked port as issuer and
# a 1 s device polling interval. The last line is "cross-language: N passed, M failed".
# Installs its own packages (pinned): venvs in tests/cross-language/.venv and
# .venv-django (the differential test), node_modules from the committed
# package-lock.json; Debian's php-cli, php-curl and ruby when missing. Needs
# python3 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/cross-language

echo "== cross-language: packages"
if ! command -v ruby >/dev/null || ! php -r 'exit(function_exists("curl_init") ? 0 : 1);' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli php-curl ruby >/dev/null
fi
venv=$dir/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$dir/python/requirements.txt"
# The authlete library is the package `authlete`, which would hide the stubs'
# `authlete.v1` from the example web tier: the differential test has its own
# venv (django/requirements.txt includes python/requirements.txt).
djvenv=$dir/.venv-django
[ -x "$djvenv/bin/python" ] || python3 -m venv "$djvenv"
"$djvenv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$dir/django/requirements.txt"
(cd "$dir/node" && npm ci --no-audit --no-fund --loglevel=error)
# Connect client code from proto/ (gitignored), by the pinned buf and protoc-gen-es.
(cd "$dir/node" && rm -rf gen && PATH="$PWD/node_modules/.bin:$PATH" buf generate)
PYTHON="$venv/bin/python" examples/python/gen_stubs.sh

echo "== cross-language: build the service"
cargo build --locked --bin authlete-grpc
target_dir=$(cargo metadata --format-version 1 --no-deps |
  "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin=$target_dir/debug/authlete-grpc
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }

free_ports() { # N distinct free loopback ports
  "$venv/bin/python" -c 'import socket,sys; s=[socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1",0))
print(*(x.getsockname()[1] for x in s))' "$1"
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
stop() { # the processes started so far (a paused engine too)
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && kill -CONT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop; rm -rf "$work"' EXIT

# Caller keys for the web tier (what it calls) and the resource server (Introspection only).
caller_keys() {
  web_key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=') rs_key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  printf 'web=%s\nresource-server=%s\n' "$(printf %s "$web_key" | sha256sum | cut -d' ' -f1)" \
    "$(printf %s "$rs_key" | sha256sum | cut -d' ' -f1)" >"$work/caller-keys"
  cat >"$work/policy.toml" <<'EOF'
[callers."key:web"]
allow = ["authlete.v1.AuthorizationService", "authlete.v1.TokenService", "authlete.v1.UserInfoService",
         "authlete.v1.IntrospectionService/StandardIntrospection", "authlete.v1.RevocationService",
         "authlete.v1.PushedAuthorizationService", "authlete.v1.DiscoveryService",
         "authlete.v1.DeviceFlowService", "authlete.v1.ClientRegistrationService"]
[callers."key:resource-server"]
allow = ["authlete.v1.IntrospectionService/Introspection"]
EOF
}

# Starts an engine, the web tier $1 (python or php) and the Ruby resource server,
# on free ports, and exports what the suites read.
start() {
  local tier=$1 grpc_port web_port rs_port
  read -r grpc_port web_port rs_port <<<"$(free_ports 3)"
  export AS_URL="http://127.0.0.1:$web_port" GRPC_ADDR="127.0.0.1:$grpc_port" RS_URL="http://127.0.0.1:$rs_port"
  # The example's engine settings, with the issuer of the port picked here and a
  # 1 s device polling interval (the device flow tests wait for one interval per poll).
  sed -e "s|^issuer = .*|issuer = \"$AS_URL\"|" \
    -e "s|^device_polling_interval = .*|device_polling_interval = 1|" \
    -e "s|^backchannel_polling_interval = .*|backchannel_polling_interval = 1|" \
    examples/python/engine.toml >"$work/engine.toml"
  grep -q '^device_polling_interval = 1$' "$work/engine.toml" || { echo "engine.toml: no device_polling_interval" >&2; exit 1; }

  local auth=() # the PHP run: caller keys, so the web tier and the resource server prove they send theirs
  if [ "$tier" = php ]; then
    caller_keys
    auth=(--caller-policy "$work/policy.toml" --caller-keys-file "$work/caller-keys")
  fi
  RUST_LOG=warn "$bin" --backend local --local-config "$work/engine.toml" --listen "$GRPC_ADDR" "${auth[@]}" \
    >"$work/engine.log" 2>&1 &
  pids+=($!)
  export ENGINE_PID=$!
  wait_port "$grpc_port" "$ENGINE_PID" engine
  if [ "$tier" = python ]; then
    "$venv/bin/python" examples/python/server.py --host 127.0.0.1 --port "$web_port" --grpc "$GRPC_ADDR" \
      --grpc-timeout 3 >"$work/web.log" 2>&1 &
  else # one process (workers would outlive a kill of the first), sessions in files of this run
    mkdir -p "$work/sessions"
    AUTHLETE_GRPC_URL="http://$GRPC_ADDR" AUTHLETE_GRPC_TIMEOUT=3 AUTHLETE_GRPC_CALLER_KEY=$web_key \
      php -d session.save_path="$work/sessions" -S "127.0.0.1:$web_port" -t examples/php examples/php/index.php \
      >"$work/web.log" 2>&1 &
  fi
  pids+=($!)
  wait_port "$web_port" "$!" web
  AUTHLETE_GRPC_URL="http://$GRPC_ADDR" AUTHLETE_GRPC_TIMEOUT=3 AUTHLETE_GRPC_CALLER_KEY=${rs_key:-} \
    ruby examples/ruby/server.rb --host 127.0.0.1 --port "$rs_port" >"$work/rs.log" 2>&1 &
  pids+=($!)
  wait_port "$rs_port" "$!" rs
}

status=0
run() { # tier, node test files...: runs the suites against that web tier
  local tier=$1 failed_before=$status
  shift
  echo "== cross-language: the $tier web tier"
  start "$tier"
  echo "== cross-language ($tier): node --test ($*)"
  (cd "$dir/node" && timeout 300 node --test --test-reporter=spec "$@") | tee "$work/node-$tier.out" || status=1
  echo "== cross-language ($tier): pytest (authlib, RFC 7592 management, the web tier's pages, the Ruby resource server, the service paused and stopped)"
  timeout 300 "$venv/bin/python" -m pytest -p no:cacheprovider -q "$dir/python" | tee "$work/pytest-$tier.out" || status=1
  if [ $status != "$failed_before" ]; then
    for log in web rs engine; do echo "-- $tier: $log log"; cat "$work/$log.log"; done
  fi
  stop
}
run python openid-client.test.mjs resource-server.test.mjs connect.test.mjs
run php openid-client.test.mjs

echo "== cross-language: pytest (authlete-django's handlers against the service, one recording fake Authlete)"
AUTHLETE_GRPC_BIN="$bin" timeout 300 "$djvenv/bin/python" -m pytest -p no:cacheprovider -q "$dir/django" |
  tee "$work/django.out" || status=1

count() { grep -haoP "$1" "$2" | tail -1 || true; } # a runner's summary line
passed=0 failed=0
tally() { # output file, pattern of the passed count, of the failed count
  local p f
  p=$(count "$2" "$1") f=$(count "$3" "$1")
  [ "${p:-0}" != 0 ] || status=1
  passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
}
for tier in python php; do
  tally "$work/node-$tier.out" '\spass \K\d+$' '\sfail \K\d+$'
  tally "$work/pytest-$tier.out" '\d+(?= passed)' '\d+(?= failed)'
done
tally "$work/django.out" '\d+(?= passed)' '\d+(?= failed)'
echo "cross-language: $passed passed, $failed failed"
exit $status
