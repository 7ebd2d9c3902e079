#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# hsm/: signatures per second through hsm_sign() next to a bare C_Sign loop
# on the same token key in the same run (target ratio >= 0.95), for
# brainpoolP256r1 and P-256, one thread and one per core. The measuring is
# done by tests/tools/hsm-bench (see its header); this script makes a
# sandbox token, runs it, prints a table and writes $BENCH_OUT/hsm.json.
set -euo pipefail
TOP=${EAC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${EAC_BUILD:-$TOP/build/check}
OUT=${BENCH_OUT:-$TOP/build/bench}
N=${BENCH_N:-2000}
BENCH=$BUILD/tests/tools/hsm-bench
TOOL=$BUILD/tests/tools/hsm-tool
[ -x "$BENCH" ] && [ -x "$TOOL" ] || { echo "hsm.sh: build $BENCH and $TOOL first (make build-tests)" >&2; exit 2; }
mkdir -p "$OUT"

D=$(mktemp -d /tmp/eac-bench-hsm.XXXXXX)
trap '"$TOP/packaging/sandbox" "$D/s" stop >/dev/null 2>&1 || true; rm -rf "$D"' EXIT
"$TOP/packaging/sandbox" "$D/s" >/dev/null 2>&1 || { echo "hsm.sh: cannot make a sandbox in $D" >&2; exit 1; }
. "$D/s/env"
MOD=$(sed -n 's/.*"module": "\(.*\)".*/\1/p' "$D/s/cvca.json")
args=(--module "$MOD" --token-uri pkcs11:token=CVCA --pin-file "$D/s/cvca.pin")
"$TOOL" "${args[@]}" genkey brainpoolP256r1 FIBENCH0001 >/dev/null
"$TOOL" "${args[@]}" genkey P-256 FIBENCH0002 >/dev/null

cores=$(nproc)
results=()
printf '%-16s %7s %10s %14s %14s %7s\n' curve threads signatures "bare C_Sign/s" "hsm_sign/s" ratio
for key in FIBENCH0001 FIBENCH0002; do
	for t in 1 "$cores"; do
		r=$("$BENCH" "${args[@]}" --key "$key" --n "$N" --threads "$t")
		results+=("$r")
		printf '%-16s %7s %10s %14s %14s %7s\n' \
			"$(sed 's/.*"curve": "\([^"]*\)".*/\1/' <<< "$r")" "$t" \
			"$(sed 's/.*"signatures": \([0-9]*\).*/\1/' <<< "$r")" \
			"$(sed 's/.*"bare_c_sign_per_s": \([0-9.]*\).*/\1/' <<< "$r")" \
			"$(sed 's/.*"hsm_sign_per_s": \([0-9.]*\).*/\1/' <<< "$r")" \
			"$(sed 's/.*"ratio": \([0-9.]*\).*/\1/' <<< "$r")"
		[ "$t" = "$cores" ] && break
	done
done
{
	printf '{\n  "benchmark": "hsm",\n  "what": "hsm_sign() vs a bare C_SignInit+C_Sign loop, same key, same run",\n'
	printf '  "target_ratio": 0.95,\n  "token": "SoftHSMv2 (%s)",\n  "n": %s,\n  "results": [\n' "$MOD" "$N"
	for i in "${!results[@]}"; do
		printf '    %s%s\n' "${results[$i]}" "$([ "$i" -lt $((${#results[@]} - 1)) ] && echo ,)"
	done
	printf '  ]\n}\n'
} > "$OUT/hsm.json"
echo "written: $OUT/hsm.json"
