#!/usr/bin/env bash
# Regenerates linear-light-off.png and linear-light-on.png (edge/README.md,
# "Formats"): the same test image downscaled 4x without and with linear_light.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --quiet --release -p edge --example linear_light -- edge/docs
