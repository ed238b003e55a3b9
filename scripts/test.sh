#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, the Rust test
# suites (unit, table, integration through a real gRPC server), the
# cross-language end-to-end tests (scripts/test-cross-language.sh), and buf lint
# of the public proto contract.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked
echo "== cross-language end-to-end tests"
scripts/test-cross-language.sh
echo "== buf lint (STANDARD)"
npx --yes @bufbuild/buf@1.75.0 lint
echo "== all checks passed"
