# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034
# (SC2034: ROOT, DVCHR, … are for the tests that source this)
#
# Shared by the fault tests (tests/integration/fault-*.sh, zz-secrets.sh,
# tests/soak/). Not a test itself: not executable, so tests/run does not run
# it. Source it after lib.sh:
#   . "$(dirname "$0")/../lib.sh"; . "$(dirname "$0")/fault-lib.sh"
#
# Every engine run here goes through the PKCS#11 fault module in front of
# SoftHSM (docs/HSM.md §8), so each run's calls are counted in $COUNTS (or
# in the file P11FAULT_COUNTS names) and faults can be injected per command.
# The record is read independently of the engines, with psql as the
# sandbox's auditor role (sql) or superuser (sql_admin).
#
#   flt_sandbox NAME        a sandbox $S (tracked), its fault-module configs,
#                           $W (work dir); bails out when impossible
#   flt_pki                 CVCA ceremony (95 days ago: CP-5.4a's 90 days
#                           have passed), DV enrolled with it, a second
#                           domestic DV "DVA" registered, one inspection
#                           system "Gate 1" (GATE1); sets ROOT, DVCHR
#   cvca ARGS / dv ARGS     the engines (fault module, operator "fault-test")
#   calls FUNC [FILE]       PKCS#11 calls of FUNC counted in FILE ($COUNTS);
#                           0 when the module was never loaded
#   mkreqs PREFIX CAR FROM COUNT DIR   COUNT fresh requests (fault-requests)
#   receive_cvca FILE / receive_dv FILE  receive a request; sets REQ (its id)
#   sql DB QUERY            one value/rows, as eac_auditor (read-only)
#   sql_admin DB QUERY      as eac_admin (superuser; locks, settings)
#   killed DESC FP CMD...   CMD run with EAC_FAILPOINT=FP dies by SIGKILL at
#                           that failpoint (exit 137, its one stderr line)
#   invariants LABEL DB DIR...  the record of DB and the files under DIR...
#                           agree (see below)
#   open_intents DB         intents without result or abandonment
#   pg_kill                 SIGKILL the sandbox's postmaster and all its
#                           processes (a power cut of the database server)
#   pg_start                start it again (packaging/sandbox DIR)

FLT_CVCA=$EAC_BIN/eac-cvca
FLT_DV=$EAC_BIN/eac-dv
CVC=$EAC_BIN/eac-cvc
FLT_REQS=$EAC_BUILD/tests/tools/fault-requests
FAULT=$EAC_BUILD/lib/p11fault.so
FLT_OPERATOR=${FLT_OPERATOR:-fault-test}

flt_bail() { not_ok "$*"; done_testing; exit 1; }

for t in "$FLT_CVCA" "$FLT_DV" "$CVC" "$FLT_REQS"; do
	[ -x "$t" ] || flt_bail "$t is built"
done
[ -f "$FAULT" ] || flt_bail "$FAULT is built"
command -v psql >/dev/null || flt_bail "psql is installed"

flt_sandbox() {
	S=$(new_sandbox "$1") && track_sandbox "$S" || flt_bail "sandbox $1 created"
	# shellcheck disable=SC1091
	. "$S/env"
	W=$T_DIR/work-$1
	mkdir -p "$W"
	REAL_MODULE=$(sed -n 's/^ *"module": "\(.*\)",$/\1/p' "$S/cvca.json")
	local e
	for e in cvca dv; do
		sed "s|\"module\": \"$REAL_MODULE\"|\"module\": \"$FAULT\"|" "$S/$e.json" > "$S/$e-fault.json"
		grep -q "\"module\": \"$FAULT\"" "$S/$e-fault.json" || flt_bail "fault-module configuration $e made"
	done
	export P11FAULT_MODULE=$REAL_MODULE
	COUNTS=$W/p11-counts
	export P11FAULT_COUNTS=$COUNTS
	unset EAC_FAILPOINT EAC_TEST_NOW
}

cvca() { "$FLT_CVCA" -c "$S/cvca-fault.json" --operator "$FLT_OPERATOR" "$@"; }
dv() { "$FLT_DV" -c "$S/dv-fault.json" --operator "$FLT_OPERATOR" "$@"; }

calls() {
	local f=${2:-$COUNTS}
	if [ -f "$f" ]; then sed -n "s/^$1=//p" "$f"; else echo 0; fi
}

mkreqs() { # PREFIX CAR FROM COUNT DIR
	mkdir -p "$5"
	"$FLT_REQS" --prefix "$1" --car "$2" --from "$3" --count "$4" --out-dir "$5" >/dev/null
}

sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "host=$S/run port=5432 dbname=$1 user=eac_auditor" -c "$2"
}
sql_admin() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "host=$S/run port=5432 dbname=$1 user=eac_admin" -c "$2"
}

receive_cvca() {
	REQ=
	check "receive $(basename "$1")" cvca receive "$1"
	REQ=$(sed -n 's/^request \([0-9][0-9]*\) from .*/\1/p' "$T_OUT")
	[ -n "$REQ" ] || { not_ok "the request id of $(basename "$1") is printed"; REQ=0; }
}
receive_dv() {
	REQ=
	check "is receive $(basename "$1")" dv is receive "$1"
	REQ=$(sed -n 's/^IS request \([0-9][0-9]*\) from .*/\1/p' "$T_OUT")
	[ -n "$REQ" ] || { not_ok "the request id of $(basename "$1") is printed"; REQ=0; }
}

killed() { # DESC FAILPOINT CMD...
	local desc=$1 fp=$2 rc
	shift 2
	export EAC_FAILPOINT=$fp
	"$@" >"$T_OUT" 2>"$T_ERR"
	rc=$?
	unset EAC_FAILPOINT
	capture
	if [ "$rc" -eq 137 ] && grep -qx "failpoint ${fp%%:*}: killing process" "$T_ERR"; then
		ok "$desc: killed at $fp"
	else
		not_ok "$desc: killed at $fp (exit $rc, wanted 137 and the failpoint's line)"
		diag "$T_OUT" "$T_ERR"
	fi
}

open_intents() { sql "$1" "SELECT count(*) FROM eac.open_issuances"; }

# invariants LABEL DB DIR...: what a crash must never break.
#  1. every certificate file under DIR... (*.cvcert) has a committed row in
#     DB with identical bytes (SHA-256 computed by the server from the
#     stored DER); no temporary file of an interrupted publish is left
#     (FLT_ALLOW_TMP=1 tolerates them: a SIGKILL at a random moment can
#     land inside eac_file_publish; they are dot-files no reader takes)
#  2. every issued certificate row has its intent — not abandoned, same
#     issuer, kind, CHR, CAR — and its body is the intent's body byte for
#     byte
#  3. no CHR twice: among certificates, and among intents not abandoned
#  4. no sequence number twice (the audited sequence.allocate events)
#  5. every request is `issued` exactly when it has a certificate
#  6. open_issuances is exactly the intents without result or abandonment
#     (what recovery reads); pending_requests is exactly the received and
#     validated requests (what status and the queue read)
#  7. the audit chain verifies (the engine's `audit verify`)
invariants() {
	local label=$1 db=$2 n missing tmp v
	shift 2
	sql "$db" "SELECT encode(sha256(der), 'hex') FROM eac.certificates" >"$T_DIR/.rows"
	find "$@" -type f -name '*.cvcert' -exec sha256sum {} + 2>/dev/null >"$T_DIR/.files"
	n=$(wc -l <"$T_DIR/.files")
	awk 'NR == FNR { h[$1] = 1; next } !($1 in h) { print "# " $2 ": no committed certificate row with these bytes" }' \
		"$T_DIR/.rows" "$T_DIR/.files" >"$T_DIR/.missing"
	missing=$(wc -l <"$T_DIR/.missing")
	head -n 20 "$T_DIR/.missing"
	tmp=$(find "$@" -type f -name '.eac-tmp-*' 2>/dev/null | wc -l)
	assert "$label: all $n certificate files written out have a committed row with identical bytes" \
		test "$missing" -eq 0
	if [ "${FLT_ALLOW_TMP:-0}" = 1 ]; then
		[ "$tmp" -gt 0 ] && echo "# $label: $tmp temporary file(s) of a publish interrupted by SIGKILL"
	else
		assert "$label: no half-written (temporary) file left" test "$tmp" -eq 0
	fi
	v=$(sql "$db" "SELECT
	 (SELECT count(*) FROM eac.certificates c LEFT JOIN eac.issuances i ON i.id = c.issuance_id
	   WHERE c.source = 'issued' AND (i.id IS NULL OR i.abandoned_at IS NOT NULL
	     OR i.issuer_id <> c.issuer_id OR i.kind <> c.kind OR i.chr <> c.chr OR i.car <> c.car
	     OR position(i.tbs IN c.der) NOT BETWEEN 4 AND 6 OR i.tbs_hash <> sha256(i.tbs)))
	 || ' ' || (SELECT count(*) FROM (SELECT 1 FROM eac.certificates
	     GROUP BY issuer_id, kind, chr HAVING count(*) > 1) d)
	 || ' ' || (SELECT count(*) FROM (SELECT 1 FROM eac.issuances WHERE abandoned_at IS NULL
	     GROUP BY issuer_id, kind, chr HAVING count(*) > 1) d)
	 || ' ' || (SELECT count(*) FROM (SELECT 1 FROM eac.audit_events WHERE action = 'sequence.allocate'
	     GROUP BY details::json->>'scope', details::json->>'value' HAVING count(*) > 1) d)
	 || ' ' || (SELECT count(*) FROM eac.requests r WHERE (r.state = 'issued') <>
	     EXISTS (SELECT 1 FROM eac.certificates c WHERE c.request_id = r.id))
	 || ' ' || (SELECT count(*) FROM eac.issuances i WHERE
	     (i.abandoned_at IS NULL AND NOT EXISTS (SELECT 1 FROM eac.certificates c WHERE c.issuance_id = i.id))
	     <> EXISTS (SELECT 1 FROM eac.open_issuances o WHERE o.issuance_id = i.id))
	 || ' ' || (SELECT count(*) FROM eac.requests r FULL JOIN eac.pending_requests p ON p.request_id = r.id
	     WHERE (p.request_id IS NOT NULL) <> (r.state IN ('received', 'validated'))
	       OR p.deadline <> r.deadline)")
	set -- $v
	if [ $# -ne 7 ]; then
		not_ok "$label: the record could be read ($v)"
		return
	fi
	assert "$label: every issued certificate has its intent, with the same body ($1 without)" test "$1" -eq 0
	assert "$label: no CHR on two certificates ($2)" test "$2" -eq 0
	assert "$label: no CHR on two live intents ($3)" test "$3" -eq 0
	assert "$label: no sequence number handed out twice ($4)" test "$4" -eq 0
	assert "$label: a request is issued exactly when it has a certificate ($5 differ)" test "$5" -eq 0
	assert "$label: open_issuances is exactly the intents without result or abandonment ($6 differ)" \
		test "$6" -eq 0
	assert "$label: pending_requests is exactly the received and validated requests ($7 differ)" \
		test "$7" -eq 0
	if [ "$db" = cvca ]; then
		check "$label: the audit chain verifies" cvca audit verify
	else
		check "$label: the audit chain verifies" dv audit verify
	fi
}

# ---- the database server ----

pg_pids() { # the postmaster and its children
	local pm
	pm=$(head -n 1 "$S/pg/postmaster.pid" 2>/dev/null) || return 0
	[ -n "$pm" ] && kill -0 "$pm" 2>/dev/null || return 0
	echo "$pm"
	ps -o pid= --ppid "$pm" 2>/dev/null
}
pg_kill() {
	local pids
	pids=$(pg_pids)
	[ -n "$pids" ] || return 1
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	# wait until every one of them is gone
	for _ in $(seq 1 100); do
		local alive=0 p
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && return 0
		sleep 0.05
	done
	return 1
}
pg_start() { "$EAC_TOP/packaging/sandbox" "$S" >"$W/sandbox-restart.log" 2>&1; }

# ---- a small PKI ----

flt_pki() {
	local t0 out
	t0=$(($(date -u +%s) - 95 * 86400))
	export EAC_TEST_NOW=$t0
	check "CVCA initial ceremony (95 days ago)" cvca --json init --curve brainpoolP256r1 \
		--officer "A. Admin" --officer "S. Officer" --transcript "$W/ceremony-init.json"
	ROOT=$(sed -n 's/^ *"chr": "\([A-Z0-9]*\)",$/\1/p' "$T_OUT" | head -n 1)
	[ -n "$ROOT" ] || { unset EAC_TEST_NOW; flt_bail "the CVCA certificate's CHR is printed"; }
	check "publish $ROOT to the Commission" cvca publish "$ROOT" --to "European Commission"
	unset EAC_TEST_NOW
	check "export the CVCA certificates" cvca export --out-dir "$W/exp"
	check "DV init" dv init --mnemonic DV --curve brainpoolP256r1 --officer "L. Officer"
	check "DV trusts $ROOT" dv trust "$W/exp/$ROOT.cvcert"
	check "the CVCA registers the DV" cvca dv register --country FI --mnemonic DV \
		--name "Border Guard DV" --org "Border Guard" --conformity-expires 2099-12-31
	check "the CVCA registers a second domestic DV (DVA)" cvca dv register --country FI \
		--mnemonic DVA --name "Police DV" --org "Police" --conformity-expires 2099-12-31
	check "DV request" dv request --to "$ROOT" --out "$W/dv1.cvreq"
	DVCHR=$(sed -n 's/^request [0-9]*: \([A-Z0-9]*\) to .*/\1/p' "$T_OUT")
	[ -n "$DVCHR" ] || flt_bail "the DV's CHR is printed"
	receive_cvca "$W/dv1.cvreq"
	out=$W/cvca-out
	mkdir -p "$out"
	check "the CVCA issues $DVCHR" cvca approve "$REQ" --out "$out/$DVCHR.cvcert"
	check "the DV imports $DVCHR" dv import "$out/$DVCHR.cvcert"
	check "inspection system Gate 1 registered" dv is add "Gate 1" --org "Border Guard" --mnemonic GATE1
}
