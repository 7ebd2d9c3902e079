#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# cvc/ benchmark (run by tests/bench/run, `make bench`): certificates
# parsed and verified per second for brainpoolP256r1 and P-256, next to
# OpenSSL's raw EVP_DigestVerify rate for the same key, data and signature
# in the same run, as a ratio (target: >= 0.9). Writes $BENCH_OUT/cvc.json.
set -euo pipefail
TOP=${EAC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${EAC_BUILD:-$TOP/build/check}
OUT=${BENCH_OUT:-$TOP/build/bench}
mkdir -p "$OUT"
"$BUILD/tests/tools/cvc-bench" "${BENCH_N:-2000}" "$OUT/cvc.json"
