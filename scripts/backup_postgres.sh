#!/usr/bin/env bash
# Back up Vectis's PostgreSQL database with pg_dump (custom format) and keep the newest N dumps.
#
#   scripts/backup_postgres.sh [DIRECTORY]
#
# VECTIS_DATABASE_URL   the database (postgresql://user:password@host:5432/db; +psycopg is accepted)
# VECTIS_BACKUP_DIR     where dumps go when no DIRECTORY is given (default: var/backups)
# VECTIS_BACKUP_KEEP    how many dumps to keep, newest first (default: 7)
#
# Each dump is written to a temporary name and renamed when pg_dump succeeded, so a failed or
# interrupted run never leaves a dump that looks complete, and never rotates a good one away.
# Check a dump with `vectis db verify-backup FILE` (docs/operations.md, "Disaster recovery").
set -euo pipefail

url=${VECTIS_DATABASE_URL:?VECTIS_DATABASE_URL: set it to the postgresql:// URL of the database to back up}
url=${url/postgresql+psycopg:/postgresql:}
url=${url/postgres:/postgresql:}
case "$url" in
  postgresql://*) ;;
  *) echo "backup_postgres: VECTIS_DATABASE_URL: expected postgresql://…, got a ${url%%:*} URL" >&2; exit 2 ;;
esac
command -v pg_dump >/dev/null || { echo "backup_postgres: pg_dump not found (Debian: apt-get install postgresql-client)" >&2; exit 2; }

dir=${1:-${VECTIS_BACKUP_DIR:-$(dirname "$0")/../var/backups}}
keep=${VECTIS_BACKUP_KEEP:-7}
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "backup_postgres: VECTIS_BACKUP_KEEP: expected a positive number, got '$keep'" >&2; exit 2; }
mkdir -p "$dir"

name="vectis-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$dir/.$name.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --no-owner --no-privileges --file="$partial" --dbname="$url"
mv "$partial" "$dir/$name"
echo "$dir/$name"

# Rotation: the names sort by time; remove all but the newest $keep.
ls -1 "$dir" | grep -E '^vectis-[0-9]{8}T[0-9]{6}Z\.dump$' | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
  rm -f "$dir/$old"
  echo "removed $dir/$old"
done
