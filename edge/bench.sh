#!/usr/bin/env bash
# The edge's figures table: see bench/run.sh (this is `bench/run.sh edge`).
exec "$(dirname "$0")/../bench/run.sh" edge
