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
# The browser tests (tests/browser) drive Debian's chromium; install it when missing and we may
# (root, apt-get present). Playwright never downloads a browser here. Without it they are skipped.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core; } >/dev/null \
    || echo "could not install chromium: the browser tests will be skipped"
fi
[ -x /usr/bin/chromium ] || echo "browser: /usr/bin/chromium missing, tests/browser will be skipped"
# Parse-to-cart from a photo (tests/runtime/test_quick_order_ocr.py) runs Debian's Tesseract;
# installed the same way, skipped with its reason without it.
if ! command -v tesseract >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's tesseract-ocr for the photo parse test"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr; } >/dev/null \
    || echo "could not install tesseract-ocr: the photo parse test will be skipped"
fi
# The backup test (tests/runtime/test_backups.py) runs pg_dump and pg_restore; install Debian's
# client when missing and we may, as for chromium.
if [ -n "${VECTIS_TEST_DATABASE_URL:-}" ] && ! command -v pg_restore >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's postgresql-client for the backup test"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client; } >/dev/null \
    || echo "could not install postgresql-client: the backup test will be skipped"
fi
echo "backends: sqlite${VECTIS_TEST_DATABASE_URL:+, postgresql ($VECTIS_TEST_DATABASE_URL)}${VECTIS_TEST_REDIS_URL:+, redis ($VECTIS_TEST_REDIS_URL)}"
# Both cores (pytest-xdist; each worker migrates its own databases and takes its own Redis
# database: the given number for the first, one below for the next). VECTIS_TEST_WORKERS=0 runs
# in this process alone.
exec .venv/bin/python -m pytest -n "${VECTIS_TEST_WORKERS:-2}" "$@"
