#!/bin/sh
# Generates the Python gRPC stubs of proto/authlete/v1 into examples/python/gen/
# (not committed: they are rebuilt from the contract). Needs grpcio-tools.
set -eu
here=$(dirname "$0")
rm -rf "$here/gen" && mkdir -p "$here/gen"
${PYTHON:-python3} -m grpc_tools.protoc -I"$here/../../proto" \
  --python_out="$here/gen" --grpc_python_out="$here/gen" "$here"/../../proto/authlete/v1/*.proto
