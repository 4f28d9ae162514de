#!/usr/bin/env bash
# Prints the edge's figures table (see benches/edge.rs). Needs wrk, nginx and
# vipsthumbnail (Debian: wrk nginx libvips-tools) besides the build deps.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk nginx vipsthumbnail; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk nginx libvips-tools)" >&2; exit 1; }
done
exec cargo bench -p edge --bench edge
