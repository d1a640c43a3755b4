#!/usr/bin/env bash
# Set up everything and run the whole test suite: on SQLite always, and also on PostgreSQL + Redis
# when they answer on 127.0.0.1 (or when VECTIS_TEST_DATABASE_URL / VECTIS_TEST_REDIS_URL are set).
VECTIS_EXTRAS=test
source "$(dirname "$0")/_env.sh"

answers() { .venv/bin/python -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; }
if [ -z "${VECTIS_TEST_DATABASE_URL+set}" ] && answers 5432; then
  export VECTIS_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test
fi
if [ -z "${VECTIS_TEST_REDIS_URL+set}" ] && answers 6379; then
  export VECTIS_TEST_REDIS_URL=redis://127.0.0.1:6379/15
fi
echo "backends: sqlite${VECTIS_TEST_DATABASE_URL:+, postgresql ($VECTIS_TEST_DATABASE_URL)}${VECTIS_TEST_REDIS_URL:+, redis ($VECTIS_TEST_REDIS_URL)}"
exec .venv/bin/python -m pytest "$@"
