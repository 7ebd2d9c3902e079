#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Concurrency on the issuance path, on both engines, each approval its own
# process (own database connection, own token login), all released at once:
#  - 64 parallel approvals of 64 distinct requests: 64 certificates, 64
#    distinct CHRs, each verified, every process done (no deadlock: none
#    hits the 170 s watchdog), one C_Sign per certificate;
#  - 64 parallel approvals of the same request: exactly one certificate,
#    one intent, one C_Sign in all 64 processes together, and 64 identical
#    answers: every process succeeds, names the same certificate and
#    writes the same bytes.
# The record's invariants (fault-lib.sh) hold afterwards.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

N=64
flt_sandbox conc
flt_pki
mkdir -p "$W/trust"
cp "$W/exp/$ROOT.cvcert" "$W/cvca-out/$DVCHR.cvcert" "$W/trust/"

# par NAME CMD...: run CMD ID --out FILE for the ids in $IDS (one process
# each, started together); CMD's results in $W/NAME/<k>.{out,err,rc,counts}.
# SoftHSM 2.6's file object store is not safe for concurrent processes: a
# login rewrites the token's file and another process reading it at that
# moment gets CKR_GENERAL_ERROR or does not see the token at all (SoftHSMv2
# issue 757; Debian's build has no SQLite backend). A hardware token serves
# concurrent clients, so each process here gets a private copy of the token
# store — the same keys, serial and labels — and what is measured is the
# appliance's own concurrency: one database, its locks and unique indexes.
par() {
	local name=$1 d=$W/$1 k=0 id
	shift
	mkdir -p "$d"
	for id in $IDS; do
		k=$((k + 1))
		# a private copy of the token store per process (see above)
		cp -a "$S/tokens" "$d/tokens.$k"
		sed "s|^directories.tokendir = .*|directories.tokendir = $d/tokens.$k|" \
			"$S/softhsm2.conf" >"$d/softhsm2.$k.conf"
		(
			export P11FAULT_COUNTS=$d/$k.counts SOFTHSM2_CONF=$d/softhsm2.$k.conf
			while [ ! -e "$d/go" ]; do sleep 0.01; done
			timeout -k 5 170 "$@" "$id" --out "$d/$k.cvcert" >"$d/$k.out" 2>"$d/$k.err"
			echo $? >"$d/$k.rc"
		) &
	done
	sleep 0.5
	touch "$d/go"
	wait
	cat "$d"/*.out "$d"/*.err >>"$T_CAPTURE" 2>/dev/null
}
# results NAME: exit statuses as "rc count" lines, and totals of calls
rcs() { cat "$W/$1"/*.rc | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' '; }
sum_calls() { # NAME FUNC
	local f t=0
	for f in "$W/$1"/*.counts; do t=$((t + $(calls "$2" "$f"))); done
	echo "$t"
}

CVCA_CMD=("$FLT_CVCA" -c "$S/cvca-fault.json" --operator "$FLT_OPERATOR")
DV_CMD=("$FLT_DV" -c "$S/dv-fault.json" --operator "$FLT_OPERATOR")

# ---- one engine: ENGINE PREFIX CAR APPROVE... ----
conc() {
	local eng=$1 prefix=$2 car=$3 name ids id k bad chr
	shift 3
	local rq=$W/rq-$eng
	mkreqs "$prefix" "$car" 1 $((N + 1)) "$rq" || flt_bail "$eng: requests made"
	ids=
	for k in $(seq 1 "$N"); do
		chr=$(printf '%s%05d' "$prefix" "$k")
		if [ "$eng" = cvca ]; then cvca receive "$rq/$chr.cvreq"; else dv is receive "$rq/$chr.cvreq"; fi \
			>"$T_OUT" 2>"$T_ERR" || { capture; flt_bail "$eng: $chr received"; }
		capture
		ids="$ids $(sed -n 's/^\(IS \)\{0,1\}request \([0-9][0-9]*\) from .*/\2/p' "$T_OUT")"
	done
	assert "$eng: $N requests received" test "$(echo $ids | wc -w)" -eq "$N"

	# 64 distinct
	name=$eng-distinct
	IDS=$ids par "$name" "$@"
	assert "$eng: $N parallel approvals of distinct requests all succeed ($(rcs "$name"))" \
		test "$(rcs "$name")" = "0:$N "
	assert "$eng: no approval hung (no watchdog timeout)" bash -c "! grep -qx 124 '$W/$name'/*.rc"
	assert "$eng: $N certificate files" test "$(ls "$W/$name"/*.cvcert 2>/dev/null | wc -l)" -eq "$N"
	assert "$eng: $N distinct certificates" \
		test "$(sha256sum "$W/$name"/*.cvcert | cut -c1-64 | sort -u | wc -l)" -eq "$N"
	assert "$eng: $N distinct CHRs in the record" test "$(sql "$eng" "SELECT count(DISTINCT c.chr)
		FROM eac.certificates c WHERE c.request_id IN ($(echo $ids | tr ' ' ','))")" -eq "$N"
	assert "$eng: one C_Sign per certificate ($(sum_calls "$name" C_Sign))" \
		test "$(sum_calls "$name" C_Sign)" -eq "$N"
	assert "$eng: one C_Login per process ($(sum_calls "$name" C_Login))" \
		test "$(sum_calls "$name" C_Login)" -eq "$N"
	bad=0
	for k in $(seq 1 "$N"); do
		"$CVC" verify --trust "$W/trust" "$W/$name/$k.cvcert" >/dev/null 2>&1 || bad=$((bad + 1))
	done
	assert "$eng: every certificate verifies to $ROOT ($bad do not)" test "$bad" -eq 0
	invariants "$eng after $N distinct approvals" "$eng" "$W/$name" "$S/$eng"

	# 64 times the same request
	chr=$(printf '%s%05d' "$prefix" $((N + 1)))
	if [ "$eng" = cvca ]; then receive_cvca "$rq/$chr.cvreq"; else receive_dv "$rq/$chr.cvreq"; fi
	id=$REQ
	name=$eng-same
	IDS=$(for k in $(seq 1 "$N"); do echo "$id"; done) par "$name" "$@"
	assert "$eng: $N parallel approvals of one request all answer (exit 0: $(rcs "$name"))" \
		test "$(rcs "$name")" = "0:$N "
	assert "$eng: no approval hung (no watchdog timeout)" bash -c "! grep -qx 124 '$W/$name'/*.rc"
	assert "$eng: exactly one certificate for the request" \
		test "$(sql "$eng" "SELECT count(*) FROM eac.certificates WHERE request_id = $id")" -eq 1
	assert "$eng: exactly one intent for the request" \
		test "$(sql "$eng" "SELECT count(*) FROM eac.issuances WHERE request_id = $id")" -eq 1
	assert "$eng: one C_Sign in all $N processes ($(sum_calls "$name" C_Sign))" \
		test "$(sum_calls "$name" C_Sign)" -eq 1
	assert "$eng: $N identical answers: the same bytes in all $N files" bash -c "
		[ \$(ls '$W/$name'/*.cvcert | wc -l) -eq $N ] &&
		[ \$(sha256sum '$W/$name'/*.cvcert | cut -c1-64 | sort -u | wc -l) -eq 1 ]"
	assert "$eng: ... the recorded certificate" test "$(sha256sum < "$W/$name/1.cvcert" | cut -c1-64)" = \
		"$(sql "$eng" "SELECT encode(sha256(der), 'hex') FROM eac.certificates WHERE request_id = $id")"
	assert "$eng: ... and every answer names $chr" \
		test "$(grep -l "certificate $chr " "$W/$name"/*.out | wc -l)" -eq "$N"
	invariants "$eng after $N approvals of one request" "$eng" "$W/$name" "$S/$eng"
}

conc cvca FIDVA "$ROOT" "${CVCA_CMD[@]}" approve
conc dv FIGATE1 "$DVCHR" "${DV_CMD[@]}" is approve
assert "no intent left open on the CVCA" test "$(open_intents cvca)" -eq 0
assert "no intent left open on the DV" test "$(open_intents dv)" -eq 0
done_testing
