#!/usr/bin/env bash
# The loom models (tests/loom/, a crate of its own so it builds in seconds): the close protocol,
# the ring registry and call-site registration, each with a deliberately broken variant that
# loom must catch.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --release --manifest-path tests/loom/Cargo.toml
