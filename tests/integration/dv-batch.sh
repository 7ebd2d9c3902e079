#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `eac-dv is issue-batch DIR --out-dir OUT` (fleet renewal):
#  - a directory mixing good requests with a stolen terminal's request, an
#    unregistered one, a reused key, a key on another curve, garbage, an
#    empty and a truncated file, and a request issued before: the good ones
#    are issued, each signed once; the bad ones refused with their reason and
#    rule; the batch runs to the end and exits 1 with the summary
#    "N issued, M refused, 0 failed"; the resubmitted request gets its
#    certificate again, not a new one; every certificate verifies with
#    OpenPACE; the refusals are on record (requests rejected with their
#    rule, refused input audited), the audit chain verifies;
#  - the same batch again issues nothing new: same summary, no C_Sign, the
#    same files;
#  - without --workers, one worker per core of the CPU affinity (taskset);
#  - 150 requests over 4 workers (several chunks): all issued once, with
#    the officer's --validity and --rights, every one verified;
#  - before all that, five `is approve` of one request at once: one
#    signature, and every approval answers with that certificate.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/dv-lib.sh"

dv_enrol
TRUST=("FICVCA00001=$CVCA_CERT" "FIDVFI001=$DV_CERT")
for g in 1 2 3 4 5 6; do
	check "is add gate $g" dv is add "Gate $g" --org "Finnish Border Guard" --mnemonic "GATE$g"
done
check "is mark gate 6 stolen" dv is mark "Gate 6" stolen --reason "reported stolen"

# gate 1's first certificate, issued one at a time
eckey g1
isreq g1 g1 FIGATE100001
receive "gate 1" "$W/g1.cvreq"
signed "gate 1: issued by is approve" dv is approve "$REQ" --out "$W/FIGATE100001.cvcert"

# parallel approvals of one request: one signature, one certificate for all.
# (SoftHSM's file store, opened by several processes at once, now and then
# fails to list its slots: such a process exits 3 before it decides
# anything; it is tolerated here, but at least two must get the answer.)
eckey g1p
isreq g1p g1p FIGATE100005
receive "gate 1, a request approved five times at once" "$W/g1p.cvreq"
for i in 1 2 3 4 5; do
	( env P11FAULT_MODULE="$REAL_MODULE" P11FAULT_COUNTS="$W/par$i.counts" "$DV_BIN" -c "$FCONF" \
		is approve "$REQ" --out "$W/par$i.cvcert" > "$W/par$i.out" 2> "$W/par$i.err"
	  echo $? > "$W/par$i.rc" ) &
done
wait
signs=0 good=0 refusals=0 other=0
for i in 1 2 3 4 5; do
	cat "$W/par$i.out" "$W/par$i.err" >> "$T_CAPTURE"
	[ -f "$W/par$i.counts" ] && signs=$((signs + $(sed -n 's/^C_Sign=//p' "$W/par$i.counts")))
	case $(cat "$W/par$i.rc") in
	0) good=$((good + 1)) ;;
	3) grep -Eq '^eac-dv: .*(token|PKCS#11)' "$W/par$i.err" || other=$((other + 1))
	   diag "$W/par$i.err" ;;
	1) refusals=$((refusals + 1)); diag "$W/par$i.err" ;;
	*) other=$((other + 1)); diag "$W/par$i.err" ;;
	esac
done
assert "... none refused, none failed but at opening the token; $good answered" \
	test "$refusals" -eq 0 -a "$other" -eq 0 -a "$good" -ge 2
assert "... every answer is the same certificate" bash -c "
	set -- \$(for i in 1 2 3 4 5; do [ \$(cat '$W'/par\$i.rc) = 0 ] && echo '$W'/par\$i.cvcert; done)
	first=\$1; for f; do cmp -s \"\$first\" \"\$f\" || exit 1; done; [ -s \"\$first\" ]"
assert "... signed once in all ($signs C_Sign)" test "$signs" -eq 1
assert "... one certificate FIGATE100005 on record" \
	test "$(sql dv "select count(*) from eac.certificates where chr = 'FIGATE100005'")" = 1
for i in 1 2 3 4 5; do [ "$(cat "$W/par$i.rc")" = 0 ] && { cp "$W/par$i.cvcert" "$W/FIGATE100005.cvcert"; break; }; done
openpace "... OpenPACE verifies it" "$W/FIGATE100005.cvcert" "${TRUST[@]}"

# ---- the batch directory ----
B=$W/batch
mkdir -p "$B/subdir"
GOOD=()
for g in 2 3 4 5; do
	for n in 1 2 3; do
		eckey "b$g$n"
		isreq "b$g$n" "b$g$n" "FIGATE${g}0000$n"
		cp "$W/b$g$n.cvreq" "$B/good-$g-$n.cvreq"
		GOOD+=("good-$g-$n.cvreq:FIGATE${g}0000$n")
	done
done
eckey b6
isreq b6 b6 FIGATE600001
cp "$W/b6.cvreq" "$B/stolen.cvreq"
eckey ghost
isreq ghost ghost FIGHOST00001
cp "$W/ghost.cvreq" "$B/unregistered.cvreq"
isreq reuse g1 FIGATE100002
cp "$W/reuse.cvreq" "$B/reused-key.cvreq"
eckey p256 P-256
isreq p256 p256 FIGATE200009
cp "$W/p256.cvreq" "$B/p256.cvreq"
{ printf 'this is no request'; head -c 300 /dev/urandom; } > "$B/garbage.cvreq"
: > "$B/empty.cvreq"
head -c 100 "$W/b21.cvreq" > "$B/truncated.cvreq"
cp "$W/g1.cvreq" "$B/resubmitted.cvreq"
# not request files: a hidden file and a subdirectory
eckey hidden
isreq hidden hidden FIGATE500009
cp "$W/hidden.cvreq" "$B/.hidden.cvreq"
cp "$W/b31.cvreq" "$B/subdir/in-subdir.cvreq"

refused_msg "issue-batch without --out-dir" 2 "usage: is issue-batch DIR --out-dir DIR" dv is issue-batch "$B"
refused_msg "issue-batch of a directory that does not exist" 3 ".*/nowhere: cannot read the directory\$" \
	dv is issue-batch "$W/nowhere" --out-dir "$W/out"

OUT=$W/out
rm -f "$COUNTS"
dv is issue-batch "$B" --out-dir "$OUT" --workers 3 > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
cp "$T_OUT" "$W/batch1.out"
assert "the batch: exit $rc = 1 (some refused)" test "$rc" -eq 1
assert "... nothing on stderr: the refusals are the batch's report" test ! -s "$T_ERR"
assert "... summary: 13 issued, 7 refused, 0 failed" grep -Eq '^13 issued, 7 refused, 0 failed( |$)' "$W/batch1.out"
assert "... 12 signatures: one per new certificate (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 12
for e in "${GOOD[@]}"; do
	f=${e%%:*} chr=${e#*:}
	assert "... issued $f -> $chr.cvcert" grep -qx "issued  $f -> $OUT/$chr.cvcert" "$W/batch1.out"
done
assert "... the resubmitted request: FIGATE100001 again, issued before" \
	grep -qx "issued  resubmitted.cvreq -> $OUT/FIGATE100001.cvcert (issued before)" "$W/batch1.out"
assert "... which is the certificate is approve wrote" cmp -s "$OUT/FIGATE100001.cvcert" "$W/FIGATE100001.cvcert"
assert "... refused stolen.cvreq (CP-3.3.2b)" grep -Eqx 'refused stolen.cvreq: refused: .*FIGATE6 is marked stolen \(CP-3\.3\.2b\)' "$W/batch1.out"
assert "... refused unregistered.cvreq (CP-3.3.2)" grep -Eqx 'refused unregistered.cvreq: refused: .*FIGHOST00001 names no inspection system registered with this DV \(CP-3\.3\.2\)' "$W/batch1.out"
assert "... refused reused-key.cvreq (CP-4.6)" grep -Eqx 'refused reused-key.cvreq: refused: .*already certified.*\(CP-4\.6\)' "$W/batch1.out"
assert "... refused p256.cvreq (TR-03110-3 D.3.3)" grep -Eqx 'refused p256.cvreq: refused: .*\(TR-03110-3 D\.3\.3\)' "$W/batch1.out"
for f in garbage empty truncated; do
	assert "... refused $f.cvreq, naming the file" grep -Eq "^refused $f.cvreq: .*$f.cvreq" "$W/batch1.out"
done
assert "... not a word about the hidden file or the subdirectory" \
	bash -c "! grep -Eq 'hidden|subdir' '$W/batch1.out'"
assert "... 20 report lines and the summary, nothing else" test "$(wc -l < "$W/batch1.out")" -eq 21
assert "the out directory: the 13 certificates, nothing else" \
	test "$(find "$OUT" -type f | wc -l)" -eq 13 -a "$(find "$OUT" -name 'FIGATE*.cvcert' | wc -l)" -eq 13
n_ok=0
for c in "$OUT"/*.cvcert; do
	if openpace_run "$c" "${TRUST[@]}" && [ "$(sed -n 's/^  CHR: //p' "$W/op.out").cvcert" = "$(basename "$c")" ] &&
		[ "$(sed -n 's/^  CAR: //p' "$W/op.out")" = FIDVFI001 ]; then
		n_ok=$((n_ok + 1))
	else
		diag "$W/op.out" "$W/op.err"
	fi
done
assert "OpenPACE verifies all 13 under FIDVFI001 and FICVCA00001, each named by its CHR ($n_ok)" test "$n_ok" -eq 13

# ---- the record ----
assert "the auditor: the rejected requests with their rules" test \
	"$(sql dv "select holder_chr || ' ' || rule_id from eac.requests where state = 'rejected' order by holder_chr" | tr '\n' ',')" = \
	"FIGATE100002 CP-4.6,FIGATE200009 TR-03110-3 D.3.3,FIGATE600001 CP-3.3.2b,"
assert "the auditor: the refused input, by file" test \
	"$(sql dv "select object from eac.audit_events where action = 'request.refused' order by object" | tr '\n' ' ')" = \
	"empty.cvreq garbage.cvreq truncated.cvreq unregistered.cvreq "
assert "the auditor: the batch's summary" \
	bash -c "psql -d dv -XAtc \"select details from eac.audit_events where action = 'batch.summary'\" |
		grep -q '\"issued\":13,\"refused\":7,\"failed\":0'"
N_IS=$(sql dv "select count(*) from eac.certificates where kind = 'is'")
assert "the auditor: 14 IS certificates, 12 of them new ($N_IS)" test "$N_IS" = 14
rm -f "$COUNTS"
dv status > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
assert "status: nothing pending, nothing awaiting distribution (exit $rc = 0)" bash -c "
	[ $rc -eq 0 ] && grep -q '^requests pending 0 (overdue 0), certificates awaiting distribution 0 (overdue 0)' '$T_OUT'"
check "the audit chain verifies" dv audit verify

# ---- the same batch again ----
(cd "$OUT" && sha256sum ./*) > "$W/out1.sums"
rm -f "$COUNTS"
dv is issue-batch "$B" --out-dir "$OUT" --workers 2 > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
cp "$T_OUT" "$W/batch2.out"
assert "again: exit $rc = 1" test "$rc" -eq 1
assert "... summary: 13 issued, 7 refused, 0 failed" grep -Eq '^13 issued, 7 refused, 0 failed( |$)' "$W/batch2.out"
assert "... nothing signed (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 0
assert "... every issued line: issued before" test "$(grep -c '^issued .* (issued before)$' "$W/batch2.out")" -eq 13
assert "... stolen.cvreq: rejected before (CP-3.3.2b)" \
	grep -Eqx 'refused stolen.cvreq: rejected before: .*stolen \(CP-3\.3\.2b\)' "$W/batch2.out"
assert "... the same files, byte for byte" bash -c "cd '$OUT' && sha256sum --quiet -c '$W/out1.sums' && [ \$(ls | wc -l) -eq 13 ]"
assert "... no new certificate in the database" test "$(sql dv "select count(*) from eac.certificates where kind = 'is'")" = 14

# without --workers, one worker per core this process may use (its CPU
# affinity, as taskset or a container's cpuset sets it), not per core of
# the machine
(
	taskset -pc 0 "$BASHPID" > /dev/null
	dv is issue-batch "$B" --out-dir "$OUT" > "$T_OUT" 2> "$T_ERR"
)
rc=$?
capture
assert "confined to one core: exit $rc = 1, one worker" bash -c "
	[ $rc -eq 1 ] && grep -Eq '^13 issued, 7 refused, 0 failed \(1 workers\)$' '$T_OUT'"

# ---- a fleet: 150 requests, 4 workers, the officer's validity and rights ----
F=$W/fleet
mkdir -p "$F"
for i in $(seq 1 150); do
	g=$((i % 4 + 2))
	openssl ecparam -name brainpoolP256r1 -genkey -noout -out "$W/f$i.pem" 2>/dev/null
	"$CVC" request --key "$W/f$i.pem" --chr "$(printf 'FIGATE%d%05d' "$g" $((i + 100)))" --car FIDVFI001 \
		--out "$F/f$i.cvreq" > /dev/null 2>&1
done
assert "150 fleet requests made" test "$(find "$F" -name '*.cvreq' -size +100c | wc -l)" -eq 150
refused_msg "fleet: --rights dg5 is no right of an inspection system" 2 ".*dg5" \
	dv is issue-batch "$F" --out-dir "$W/fleet-out" --rights dg5
signed "fleet: 150 requests, 4 workers, --validity 10 --rights dg3" \
	dv is issue-batch "$F" --out-dir "$W/fleet-out" --workers 4 --validity 10 --rights dg3
assert "... 150 issued, 0 refused, 0 failed (4 workers)" grep -qx '150 issued, 0 refused, 0 failed (4 workers)' "$T_OUT"
assert "... 150 signatures (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 150
assert "... 150 files" test "$(find "$W/fleet-out" -name 'FIGATE*.cvcert' | wc -l)" -eq 150
mkdir -p "$W/fleet-trust"
cp "$CVCA_CERT" "$DV_CERT" "$W/fleet-trust/"
check "eac-cvc verify: all 150 chain to FICVCA00001 through FIDVFI001" \
	"$CVC" verify --trust "$W/fleet-trust" "$W"/fleet-out/*.cvcert
assert "... 150 valid" test "$(grep -c ': valid' "$T_OUT")" -eq 150
n_ok=0
want_exp=$(date -u -d '+10 days' +%F)
for c in "$W"/fleet-out/*.cvcert; do
	if openpace_run "$c" "${TRUST[@]}" && grep -qx "  Expiration Date: $want_exp" "$W/op.out"; then
		n_ok=$((n_ok + 1))
	fi
done
assert "OpenPACE verifies all 150, each expiring $want_exp ($n_ok)" test "$n_ok" -eq 150
assert "... rights dg3 only" bash -c "
	[ \$('$CVC' print '$W'/fleet-out/*.cvcert | grep -c '^    rights: *dg3\$') -eq 150 ]"
assert "... 150 distinct keys" test \
	"$("$CVC" print "$W"/fleet-out/*.cvcert | sed -n 's/^    key SHA-256: *//p' | sort -u | wc -l)" -eq 150
check "the audit chain verifies" dv audit verify
done_testing
