#!/usr/bin/env bash
# Set up everything and run the demo store on http://127.0.0.1:8000/graphql (SQLite under var/, no Redis).
source "$(dirname "$0")/_env.sh"
exec .venv/bin/vectis demo "$@"
