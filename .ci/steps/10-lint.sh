#!/usr/bin/env bash
# Lint: ruff, mypy (strict on models, config, graphs, memory) and the layering contract, all configured in
# pyproject.toml. Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/python ] || python3 -m venv .venv
if ! [ -x .venv/bin/ruff ] || ! [ -x .venv/bin/mypy ] || ! [ -x .venv/bin/lint-imports ]; then
    .venv/bin/pip install -q ruff==0.17.6 mypy==2.4.1 import-linter==2.17
fi
# The repo root is the package `brief` (package-dir "."): mypy and import-linter find it through a link.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
ln -s "$PWD" "$root/brief"

echo "+ ruff check ."
.venv/bin/ruff check .
echo "+ mypy"
MYPYPATH="$root" .venv/bin/mypy
echo "+ lint-imports"
PYTHONPATH="$root" .venv/bin/lint-imports
