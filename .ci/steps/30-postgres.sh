#!/usr/bin/env bash
# The postgres suite: Postgres checkpoints under the kill -9 resume test, against a real PostgreSQL server that
# the tests start themselves (tests/postgres_server.py: initdb + pg_ctl on 127.0.0.1, a free port, a temp dir).
set -euo pipefail
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q postgresql
fi
.venv/bin/pip install -q -e '.[postgres]'
# pytest exits 5 when nothing was collected: a suite that didn't run fails the step
.venv/bin/python -m pytest --suite postgres
