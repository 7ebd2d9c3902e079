#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Secrets, proven on a whole life of the PKI (runs late: zz-). Every PIN of
# the suite starts with the marker $EAC_TEST_PIN_MARKER (tests/run,
# packaging/sandbox); here both engines work with real, wrong, locked and
# descriptor-fed PINs — ceremonies with transcripts, enrolment, approvals,
# a batch, recovery — with the database server logging every statement
# and its parameters. Then the marker (and the tokens' SO PINs, and the
# database roles' passwords) must appear in:
#  - no audit row of either database (dumped as the auditor), no row of
#    any table (pg_dump as superuser), no byte of the database files or
#    the write-ahead log (after a CHECKPOINT), not the server's log;
#  - no ceremony transcript, no file the engines wrote, no output of any
#    command of this test, no log of the suite written so far;
# with a control for each probe: the marker is in the PIN files, the
# server log does hold statements with their parameters.
# And the processes that hold PINs are not dumpable: while an engine
# waits for its PIN on --pin-fd, and again while it signs after reading
# it, its core-file limit is 0 and a process of the same user without
# CAP_SYS_PTRACE cannot open its memory (/proc/PID/mem, the kernel's
# ptrace-attach check, which a non-dumpable process fails) — while a
# control process started the same way can. When the suite runs as root,
# engine, control and probe all run with CAP_SYS_PTRACE dropped from their
# bounding set (setpriv), so that they are the same user with the same
# capabilities and only dumpability tells them apart.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

MARK=${EAC_TEST_PIN_MARKER:-}
[ -n "$MARK" ] || flt_bail "EAC_TEST_PIN_MARKER is set (tests/run sets it)"
flt_sandbox secrets
assert "control: the CVCA and DV PIN files carry the marker" bash -c \
	"grep -q '^$MARK' '$S/cvca.pin' && grep -q '^$MARK' '$S/dv.pin'"
# every statement and its parameters go to the server log from now on
check "the server logs every statement with its parameters" bash -c "
	$(declare -f sql_admin); S='$S'
	sql_admin postgres \"ALTER SYSTEM SET log_statement = 'all'\" &&
	sql_admin postgres \"ALTER SYSTEM SET log_connections = on\" &&
	sql_admin postgres \"SELECT pg_reload_conf()\""

# ---- a life of the PKI ----
flt_pki
WRONG=$W/wrong.pin
printf '%sWRONG' "$MARK" >"$WRONG"
chmod 600 "$WRONG"
sed "s|\"pin_file\": \"[^\"]*\"|\"pin_file\": \"$WRONG\"|" "$S/dv-fault.json" >"$S/dv-wrong.json"
sed "s|\"pin_file\": \"[^\"]*\"|\"pin_file\": \"$WRONG\"|" "$S/cvca-fault.json" >"$S/cvca-wrong.json"
mkreqs FIGATE1 "$DVCHR" 1 6 "$W/rq" || flt_bail "requests made"
mkreqs FIDVA "$ROOT" 1 5 "$W/rq" || flt_bail "requests made"
receive_dv "$W/rq/FIGATE100001.cvreq"
refuse "DV: a wrong PIN from the configuration's pin_file" 3 "wrong PIN \\(CKR_PIN_INCORRECT\\)" \
	"$FLT_DV" -c "$S/dv-wrong.json" is approve "$REQ"
receive_dv "$W/rq/FIGATE100004.cvreq"
refuse "DV: a wrong PIN from --pin-fd" 3 "wrong PIN \\(CKR_PIN_INCORRECT\\)" \
	bash -c '"$@" 3<"$0"' "$WRONG" "$FLT_DV" -c "$S/dv-fault.json" --pin-fd 3 is approve "$REQ"
receive_dv "$W/rq/FIGATE100002.cvreq"
check "DV: the right PIN from --pin-fd" bash -c '"$@" 3<"$0"' "$S/dv.pin" "$FLT_DV" -c "$S/dv-fault.json" \
	--pin-fd 3 --operator "$FLT_OPERATOR" is approve "$REQ" --out "$W/out/FIGATE100002.cvcert"
receive_cvca "$W/rq/FIDVA00001.cvreq"
refuse "CVCA: a wrong PIN from the configuration's pin_file" 3 "wrong PIN \\(CKR_PIN_INCORRECT\\)" \
	"$FLT_CVCA" -c "$S/cvca-wrong.json" approve "$REQ"
receive_cvca "$W/rq/FIDVA00004.cvreq"
refuse "CVCA: a locked PIN" 3 "PIN locked" env P11FAULT_TOKEN_FLAGS=+CKF_USER_PIN_LOCKED \
	"$FLT_CVCA" -c "$S/cvca-fault.json" approve "$REQ"
receive_cvca "$W/rq/FIDVA00002.cvreq"
check "CVCA: the right PIN from --pin-fd" bash -c '"$@" 3<"$0"' "$S/cvca.pin" "$FLT_CVCA" \
	-c "$S/cvca-fault.json" --pin-fd 3 approve "$REQ" --out "$W/out/FIDVA00002.cvcert"
receive_dv "$W/rq/FIGATE100003.cvreq"
killed "DV: an approval" after_sign dv is approve "$REQ" --out "$W/out/FIGATE100003.cvcert"
check "DV: recover" dv recover
export EAC_TEST_NOW=$(($(date -u +%s) + 60))
check "CVCA link ceremony with a transcript" cvca rollover --officer "A. Admin" --officer "S. Officer" \
	--transcript "$W/ceremony-rollover.json"
unset EAC_TEST_NOW
for e in cvca dv; do
	"$e" status >"$T_OUT" 2>"$T_ERR"
	rc=$?
	capture
	assert "$e: status (exit $rc: 0 or warnings)" test "$rc" -le 1
done
check "CVCA: audit verify" cvca audit verify
check "DV: audit verify" dv audit verify

# ---- the processes that hold PINs are not dumpable ----
DROP=()
if [ "$(id -u)" = 0 ]; then DROP=(setpriv --bounding-set -sys_ptrace --); fi
# probe PID: may a process of the same user, without CAP_SYS_PTRACE, open
# the memory of PID? (count=0: open, read nothing)
probe() { "${DROP[@]}" dd if="/proc/$1/mem" of=/dev/null bs=1 count=0 2>/dev/null; }
core_limit() { sed -n 's/^Max core file size *\([0-9a-z]*\) *\([0-9a-z]*\).*/\1 \2/p' "/proc/$1/limits"; }
not_dumpable() { # LABEL PID
	assert "$1: core files off (RLIMIT_CORE 0 0)" test "$(core_limit "$2")" = "0 0"
	assert "$1: another process of the same user cannot open its memory (not dumpable)" \
		bash -c "$(declare -p DROP); $(declare -f probe); ! probe $2"
	assert "$1: its command line holds no PIN" bash -c "! tr '\\0' ' ' < /proc/$2/cmdline | grep -q '$MARK'"
}
"${DROP[@]}" sleep 60 &
CONTROL=$!
sleep 0.2
assert "control: the probe opens the memory of an ordinary process of the same user" probe "$CONTROL"
assert "control: an ordinary process may dump core (its limit is not 0 0)" test "$(core_limit "$CONTROL")" != "0 0"
kill "$CONTROL" 2>/dev/null

# pin_wait ENGINE-ARGS...: the engine started with --pin-fd 3 on a FIFO
# nobody has written yet; EPID its pid, fd 7 the writing end
mkfifo "$W/pin.fifo"
exec 7<>"$W/pin.fifo"
waits_for_pin() { # PID: hardened and blocked reading (state S) for 0.3 s
	for _ in $(seq 1 200); do
		# (C_GetTokenInfo: the token's flags are read right before the PIN)
		if [ "$(core_limit "$1")" = "0 0" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = S ] &&
			[ "$(calls C_GetTokenInfo)" -ge 1 ] && [ "$(calls C_Login)" -eq 0 ]; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}
# the CVCA approving, waiting for its PIN
receive_cvca "$W/rq/FIDVA00003.cvreq"
rm -f "$COUNTS"
"${DROP[@]}" "$FLT_CVCA" -c "$S/cvca-fault.json" --pin-fd 3 approve "$REQ" --out "$W/out/FIDVA00003.cvcert" \
	3<"$W/pin.fifo" >"$W/cvca-pin.out" 2>"$W/cvca-pin.err" &
EPID=$!
assert "eac-cvca approve waits for its PIN on the descriptor" waits_for_pin "$EPID"
not_dumpable "eac-cvca waiting for its PIN" "$EPID"
{ cat "$S/cvca.pin"; echo; } >&7
wait "$EPID"
assert "eac-cvca approve read its PIN and issued (exit $?)" test -s "$W/out/FIDVA00003.cvcert"
cat "$W/cvca-pin.out" "$W/cvca-pin.err" >>"$T_CAPTURE"
exec 7>&-

# the DV signing a batch of 2000 after reading its PIN
mkreqs FIGATE1 "$DVCHR" 1000 2000 "$W/batch" || flt_bail "batch requests made"
exec 7<>"$W/pin.fifo"
rm -f "$COUNTS"
"${DROP[@]}" "$FLT_DV" -c "$S/dv-fault.json" --pin-fd 3 is issue-batch "$W/batch" --out-dir "$W/batch-out" \
	3<"$W/pin.fifo" >"$W/dv-pin.out" 2>"$W/dv-pin.err" &
EPID=$!
assert "eac-dv is issue-batch waits for its PIN on the descriptor" waits_for_pin "$EPID"
not_dumpable "eac-dv batch waiting for its PIN" "$EPID"
{ cat "$S/dv.pin"; echo; } >&7
exec 7>&-
for _ in $(seq 1 200); do
	[ "$(calls C_Login)" -ge 1 ] && [ "$(calls C_Sign)" -ge 1 ] && break
	sleep 0.02
done
if kill -0 "$EPID" 2>/dev/null; then
	not_dumpable "eac-dv batch signing after its login (C_Sign $(calls C_Sign))" "$EPID"
else
	not_ok "eac-dv batch still running after its login (it ended too soon to be probed)"
fi
wait "$EPID"
rc=$?
cat "$W/dv-pin.out" "$W/dv-pin.err" >>"$T_CAPTURE"
assert "eac-dv batch of 2000 completed (exit $rc)" grep -q '^2000 issued, 0 refused, 0 failed' "$W/dv-pin.out"

# ---- where a secret could end up ----
SECRETS=("$MARK" "$(cat "$S/.cvca.so-pin")" "$(cat "$S/.dv.so-pin")")
for r in admin owner service auditor; do SECRETS+=("$(cat "$S/.pg-$r.pw")"); done
# leaks WHAT FILE...: a secret found in any of the files
leaks() {
	local what=$1 s found=0
	shift
	for s in "${SECRETS[@]}"; do
		if grep -rlaF -- "$s" "$@" 2>/dev/null | head -n 3 | sed "s|^|# $what: a secret in |" | grep .; then
			found=1
		fi
	done
	return "$found"
}
mkdir -p "$W/dump"
for db in cvca dv; do
	sql "$db" "COPY (SELECT * FROM eac.audit_events ORDER BY seq) TO STDOUT" >"$W/dump/$db-audit.txt"
	assert "control: the $db audit dump holds the life above ($(wc -l <"$W/dump/$db-audit.txt") rows, login.fail among them)" \
		grep -q 'login.fail' "$W/dump/$db-audit.txt"
	assert "no secret in any audit row of $db" leaks "$db audit" "$W/dump/$db-audit.txt"
	PGPASSFILE=$S/pgpass pg_dump -h "$S/run" -U eac_admin -d "$db" --no-password >"$W/dump/$db.sql" 2>"$W/dump/$db.err"
	assert "control: pg_dump of $db holds its certificates" grep -q 'COPY eac.certificates' "$W/dump/$db.sql"
	assert "no secret in any row of any table of $db (pg_dump)" leaks "$db dump" "$W/dump/$db.sql"
done
check "CHECKPOINT: everything on disk" sql_admin postgres "CHECKPOINT"
assert "control: the database files hold a known value (the DV's CHR $DVCHR)" \
	bash -c "grep -rlaF '$DVCHR' '$S/pg/base' | grep -q ."
assert "no secret in the database files or the write-ahead log" leaks "database files" "$S/pg"
assert "control: the server log holds the engines' statements and their parameters" bash -c "
	grep -q 'execute [^:]*: INSERT INTO eac.certificates' '$S/pglog/server.log' &&
	grep -q 'parameters: \$1 = ' '$S/pglog/server.log'"
assert "no secret in the server log" leaks "server log" "$S/pglog"
assert "control: the transcripts are there" test -s "$W/ceremony-init.json" -a -s "$W/ceremony-rollover.json"
assert "no secret in the ceremony transcripts (given and in the data directory)" \
	leaks transcripts "$W"/ceremony-*.json "$S"/cvca/ceremony-*.json
assert "no secret in any file the engines wrote (data directories, outputs, exports)" \
	leaks "engine files" "$S/cvca" "$S/dv" "$W/out" "$W/batch-out" "$W/exp" "$W/cvca-out"
assert "no secret in the output of any command of this test" leaks "outputs" "$T_CAPTURE"
logs=$(find "$EAC_BUILD/test-logs" -type f ! -name '*.rc' 2>/dev/null)
# shellcheck disable=SC2086
assert "no secret in the suite's logs written so far ($(echo "$logs" | grep -c .) files)" \
	leaks "suite logs" $logs
done_testing
