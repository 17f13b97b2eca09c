#!/usr/bin/env bash
# Build pybcc's wheel with the tools' prebuilt objects for x86-64 and arm64
# (so installing it needs no compiler for the tools). Output: DIR (default dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
python3 -m pybcc.tools.lib.prebuilt
python3 -m pybcc.tools.lib.prebuilt --arch arm64 --btf "$(bash scripts/arm64-kernel.sh)"
rm -rf build
python3 -m pip wheel --no-deps -q -w "$out" .
rm -rf build
ls "$out"/pybcc-*.whl
