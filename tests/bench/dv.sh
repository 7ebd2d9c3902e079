#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The DV's batch issuance of IS certificates, end to end, against the limits
# measured in the same run on the same machine (issue: make bench):
#   1. end to end: eac-dv is issue-batch on N authenticated IS requests
#      (re-key: inner signature by the new key, outer by the current one) —
#      parse, both signature checks, policy, signing in SoftHSM, committed
#      record, files written — certificates per second;
#   2. the bound: the token's bare C_Sign rate on the same key and OpenSSL's
#      verify rate, both with as many threads as the batch has workers,
#      combined as 1 / (1/sign + 2/verify);
#   3. the peer: OpenPACE cvc-create issuing N terminal certificates in a
#      shell loop, one process per certificate (no request verification);
# plus the batch's peak RSS for N and for 4N requests, and the time of
# `eac-cvca status` / `eac-dv status` with 1,000,000 certificates in the
# databases (BENCH_STATUS_ROWS; BENCH_STATUS_ONLY=1 measures only that).
# For brainpoolP256r1 and P-256 (BENCH_CURVES to choose). Writes
# $BENCH_OUT/dv.json. BENCH_QUICK=1, for working on the batch: only the end
# to end rate, the CPU split and the bound (no peer, no 4N, no status).
set -euo pipefail
TOP=${EAC_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${EAC_BUILD:-$TOP/build/check}
BIN=${EAC_BIN:-$BUILD/bin}
OUT=${BENCH_OUT:-$TOP/build/bench}
N=${BENCH_N:-2000}
STATUS_ROWS=${BENCH_STATUS_ROWS:-1000000}
TOOLS=$BUILD/tests/tools
for t in bench-prep bench-verify bench-run hsm-bench; do
	[ -x "$TOOLS/$t" ] || { echo "dv.sh: build $TOOLS/$t first (make build-tests)" >&2; exit 2; }
done
mkdir -p "$OUT"
W=$(nproc)
D=$(mktemp -d /tmp/eac-bench-dv.XXXXXX)
chmod 0711 "$D"
cleanup() {
	for s in "$D"/*/s; do [ -d "$s" ] && "$TOP/packaging/sandbox" "$s" stop >/dev/null 2>&1; done
	rm -rf "$D"
}
trap cleanup EXIT
num() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$2" | head -n 1; }

# A sandbox with a CVCA and a DV on CURVE, the DV certified: DIR/s
setup() { # DIR CURVE
	local d=$1 c=$2
	mkdir -p "$d"
	chmod 0711 "$d"
	"$TOP/packaging/sandbox" "$d/s" >/dev/null
	(
		. "$d/s/env"
		export PATH=$BIN:$PATH
		eac-cvca init --curve "$c" --officer A --officer B
		eac-cvca export --out-dir "$d/exp"
		eac-dv init --mnemonic DV --curve "$c" --officer D
		eac-dv trust "$d/exp/FICVCA00001.cvcert"
		eac-cvca dv register --country FI --mnemonic DV --name DV \
			--conformity-expires "$(date -u -d '+2 years' +%Y-%m-%d)"
		eac-dv request --to FICVCA00001 --out "$d/dv.req"
		eac-cvca receive "$d/dv.req"
		eac-cvca approve 1 --out "$d/dv.cvcert"
		eac-dv import "$d/dv.cvcert"
	) >"$d/setup.log" 2>&1 || { cat "$d/setup.log" >&2; exit 1; }
}

# N inspection systems with a certificate each, and their N re-key
# (authenticated) requests: DIR/rekey. PREFIX keeps runs apart.
prepare() { # DIR CURVE N PREFIX
	local d=$1 c=$2 n=$3 p=$4
	(
		. "$d/s/env"
		"$TOOLS/bench-prep" register --config "$d/s/dv.json" --n "$n" --prefix "$p"
		"$TOOLS/bench-prep" requests --n "$n" --prefix "$p" --car FIDVFI001 --curve "$c" \
			--out "$d/init-$p" --keys "$d/keys-$p"
		"$BIN/eac-dv" is issue-batch "$d/init-$p" --out-dir "$d/out-init-$p" >/dev/null
		"$TOOLS/bench-prep" requests --n "$n" --prefix "$p" --car FIDVFI001 --curve "$c" \
			--out "$d/rekey-$p" --seq 00002 --old-keys "$d/keys-$p" --old-seq 00001
	) >"$d/prep-$p.log" 2>&1 || { cat "$d/prep-$p.log" >&2; exit 1; }
}

# CPU seconds the sandbox's PostgreSQL has used so far: the postmaster's
# own and reaped children's (backends that ended), plus the live children
pg_cpu() { # DIR
	local pm
	pm=$(head -n 1 "$1/s/pg/postmaster.pid")
	{
		awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
		for c in $(ps -o pid= --ppid "$pm"); do
			awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || true
		done
	} | awk -v hz="$(getconf CLK_TCK)" '{ t += $1 } END { printf "%.2f", t / hz }'
}

batch() { # DIR PREFIX JSON
	(. "$1/s/env" && "$TOOLS/bench-run" "$3" "$BIN/eac-dv" is issue-batch "$1/rekey-$2" \
		--out-dir "$1/out-$2")
	[ "$(num exit "$3")" = 0 ] || { echo "dv.sh: the batch failed (see $3)" >&2; exit 1; }
}

# OpenPACE: a software CVCA and DV, then one cvc-create per certificate
peer() { # DIR CURVE N
	local d=$1/peer c=$2 n=$3 exp
	mkdir -p "$d/req" "$d/out"
	exp=$(date -u -d '+1 month' +%y%m%d)
	(
		cd "$d"
		openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$c" -outform DER -out cvca.pkcs8
		cvc-create --role=cvca --type=is --chr=UTCVCA00001 --expires="$(date -u -d '+1 year' +%y%m%d)" \
			--sign-with=cvca.pkcs8 --scheme=ECDSA_SHA_256 --read-finger --read-iris
		cvc-create --role=dv_domestic --chr=UTDVUT00001 --expires="$(date -u -d '+3 months' +%y%m%d)" \
			--sign-with=cvca.pkcs8 --sign-as=UTCVCA00001.cvcert --scheme=ECDSA_SHA_256 --read-finger --read-iris
		"$TOOLS/bench-prep" requests --n "$n" --prefix P --country UT --car UTDVUT00001 --curve "$c" --out req
	) >"$d/setup.log" 2>&1 || { cat "$d/setup.log" >&2; exit 1; }
	cat > "$d/loop.sh" <<EOF
#!/bin/bash
cd '$d'
for f in req/*.cvreq; do
	cvc-create --csr="\$f" --role=terminal --type=is --expires=$exp --sign-with=UTDVUT00001.pkcs8 \\
		--scheme=ECDSA_SHA_256 --read-finger --out-cert="out/\$(basename "\$f" .cvreq).cvcert" >/dev/null || exit 1
done
EOF
	chmod +x "$d/loop.sh"
	"$TOOLS/bench-run" "$d/run.json" "$d/loop.sh"
	[ "$(num exit "$d/run.json")" = 0 ] || { echo "dv.sh: the OpenPACE loop failed" >&2; exit 1; }
}

# STATUS_ROWS certificates loaded into each database as the superuser,
# the population each engine grows in service: IS certificates issued by
# the DV, DV certificates issued by the CVCA (triggers, foreign keys
# included, off: this measures the status queries, not the loading; the
# issuance ids they point to are not there, the databases are thrown away),
# then the median of 5 runs of each engine's status
status_time() { # DIR JSON
	local d=$1 db kind
	for db in dv cvca; do
		kind=is
		[ "$db" = cvca ] && kind=dv
		(
			. "$d/s/env"
			psql -XAq -v ON_ERROR_STOP=1 -U eac_admin -d "$db" <<EOF
SET session_replication_role = replica;
INSERT INTO eac.certificates (source, issuance_id, issuer_id, kind, chr, car, chat, effective, expiry,
	holder_key_hash, der, der_hash, issued_at)
SELECT 'issued', 1000000000 + g, c.issuer_id, '$kind', 'FIZZ' || lpad(g::text, 7, '0') || '00001', c.car,
	c.chat, c.effective, c.expiry, sha256(int8send(g)), c.der || int8send(g), sha256(c.der || int8send(g)),
	now() - interval '30 days'
FROM generate_series(1, $STATUS_ROWS) g,
	(SELECT * FROM eac.certificates WHERE source = 'issued' AND kind = '$kind' ORDER BY id DESC LIMIT 1) c;
ANALYZE;
EOF
		) >>"$d/load.log" 2>&1 || { cat "$d/load.log" >&2; exit 1; }
	done
	local e ms all=""
	for e in cvca dv; do
		local runs=()
		for i in 1 2 3 4 5; do
			(. "$d/s/env" && "$TOOLS/bench-run" "$d/st.json" "$BIN/eac-$e" status)
			runs+=("$(awk -v s="$(num seconds "$d/st.json")" 'BEGIN { printf "%.1f", s * 1000 }')")
		done
		ms=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)
		all+="\"eac_${e}_status_ms\": $ms, "
	done
	echo "{ $all\"certificates\": $STATUS_ROWS }" > "$2"
}

# BENCH_STATUS_ONLY=1: only the status timing (a sandbox, the rows, the runs)
if [ -n "${BENCH_STATUS_ONLY:-}" ]; then
	setup "$D/status" brainpoolP256r1
	status_time "$D/status" "$D/status/status.json"
	echo "status with $STATUS_ROWS certificates in each database (median of 5): $(cat "$D/status/status.json")"
	exit 0
fi

results=()
printf '%-16s %9s %9s %9s %9s %7s %7s %9s %9s\n' curve "e2e/s" "bound/s" "sign/s" "verify/s" \
	"e2e/bnd" "e2e/peer" "peer/s" "RSS N→4N"
QUICK=${BENCH_QUICK:-}
status=null
for curve in ${BENCH_CURVES:-brainpoolP256r1 P-256}; do
	d=$D/$curve
	setup "$d" "$curve"
	prepare "$d" "$curve" "$N" A
	pg0=$(pg_cpu "$d")
	batch "$d" A "$d/e2e.json"
	sleep 0.5 # the batch's server processes end and are reaped
	pg1=$(pg_cpu "$d")
	e2e=$(awk -v n="$N" -v s="$(num seconds "$d/e2e.json")" 'BEGIN { printf "%.1f", n / s }')
	# where the CPU went, per certificate: our process (all threads) and
	# the database server, on the same $W cores
	ours_ms=$(awk -v n="$N" -v c="$(num cpu_seconds "$d/e2e.json")" 'BEGIN { printf "%.3f", c * 1000 / n }')
	pg_ms=$(awk -v n="$N" -v a="$pg0" -v b="$pg1" 'BEGIN { printf "%.3f", (b - a) * 1000 / n }')
	rss_n=$(num max_rss_kb "$d/e2e.json")
	# the bound, same token key, same number of threads as workers
	MOD=$(sed -n 's/.*"module": "\(.*\)".*/\1/p' "$d/s/dv.json")
	(. "$d/s/env" && "$TOOLS/hsm-bench" --module "$MOD" --token-uri pkcs11:token=DV \
		--pin-file "$d/s/dv.pin" --key FIDVFI001 --n "$N" --threads "$W") > "$d/sign.json"
	sign=$(num bare_c_sign_per_s "$d/sign.json")
	"$TOOLS/bench-verify" "$curve" "$N" "$W" > "$d/verify.json"
	verify=$(num verify_per_s "$d/verify.json")
	bound=$(awk -v s="$sign" -v v="$verify" 'BEGIN { printf "%.1f", 1 / (1 / s + 2 / v) }')
	r_bound=$(awk -v a="$e2e" -v b="$bound" 'BEGIN { printf "%.2f", a / b }')
	peer_rate=null r_peer=null rss_4n=null
	if [ -z "$QUICK" ]; then
		peer "$d" "$curve" "$N"
		peer_rate=$(awk -v n="$N" -v s="$(num seconds "$d/peer/run.json")" 'BEGIN { printf "%.1f", n / s }')
		r_peer=$(awk -v a="$e2e" -v b="$peer_rate" 'BEGIN { printf "%.1f", a / b }')
		# memory: the same batch with 4N requests
		prepare "$d" "$curve" $((4 * N)) B
		batch "$d" B "$d/e2e4.json"
		rss_4n=$(num max_rss_kb "$d/e2e4.json")
	fi
	printf '%-16s %9s %9s %9s %9s %7s %7s %9s %9s\n' "$curve" "$e2e" "$bound" "$sign" "$verify" \
		"$r_bound" "$r_peer" "$peer_rate" "${rss_n}→${rss_4n} kB"
	printf '%-16s CPU per certificate: eac-dv %s ms, PostgreSQL %s ms (on %s cores)\n' "" \
		"$ours_ms" "$pg_ms" "$W"
	results+=("{\"curve\": \"$curve\", \"n\": $N, \"workers\": $W, \"end_to_end_per_s\": $e2e, \"bound_per_s\": $bound, \"bare_c_sign_per_s\": $sign, \"openssl_verify_per_s\": $verify, \"peer_per_s\": $peer_rate, \"ratio_bound\": $r_bound, \"ratio_peer\": $r_peer, \"rss_kb_n\": $rss_n, \"rss_kb_4n\": $rss_4n, \"cpu_ms_per_cert_ours\": $ours_ms, \"cpu_ms_per_cert_postgresql\": $pg_ms}")
	if [ -z "$QUICK" ] && [ "$status" = null ]; then
		status_time "$d" "$d/status.json"
		status=$(cat "$d/status.json")
	fi
	"$TOP/packaging/sandbox" "$d/s" stop >/dev/null
done
[ "$status" = null ] || echo "status with $STATUS_ROWS certificates in each database (median of 5): $status"
{
	printf '{\n  "benchmark": "dv-issue-batch",\n  "targets": {"ratio_bound": 0.85, "ratio_peer_brainpoolP256r1": 8, "ratio_peer_P-256": 40, "status_ms": 100},\n'
	printf '  "machine": {"cores": %s, "date": "%s"},\n  "results": [\n' "$W" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	for i in "${!results[@]}"; do
		printf '    %s%s\n' "${results[$i]}" "$([ "$i" -lt $((${#results[@]} - 1)) ] && echo ,)"
	done
	printf '  ],\n  "status": %s\n}\n' "$status"
} > "$OUT/dv.json"
echo "written: $OUT/dv.json"
