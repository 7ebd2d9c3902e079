#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Foundation: two independent sandboxes side by side, idempotent set-up,
# stop/start, configurations loadable by the strict loader, secrets private,
# release binaries hardened and free of test hooks, `make install`.
. "$(dirname "$0")/../lib.sh"

S1=$(new_sandbox s1) && track_sandbox "$S1" || { not_ok "sandbox s1 created"; done_testing; exit; }
S2=$(new_sandbox s2 --country DE) && track_sandbox "$S2" || { not_ok "sandbox s2 created"; done_testing; exit; }
ok "two sandboxes created"

for s in "$S1" "$S2"; do
	n=$(basename "$s")
	check "$n: psql connects through the socket inside DIR" \
		bash -c ". '$s/env' && psql -XAtc 'select 1' | grep -qx 1"
	check "$n: pkcs11-tool lists tokens CVCA and DV" \
		bash -c ". '$s/env' && pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so -L > '$T_DIR/$n.slots' && grep -q 'token label *: CVCA' '$T_DIR/$n.slots' && grep -q 'token label *: DV' '$T_DIR/$n.slots'"
	check "$n: socket is inside DIR, no TCP listener configured" \
		bash -c "test -S '$s/run/.s.PGSQL.5432' && grep -q \"^listen_addresses = ''\" '$s/pg/postgresql.conf'"
	check "$n: the service role reaches both engine databases" \
		bash -c ". '$s/env' && psql -XAt -U eac_service -d cvca -c 'select 1' && psql -XAt -U eac_service -d dv -c 'select 1'"
	for e in cvca dv; do
		check "$n: $e.json loads with the strict configuration loader" \
			"$EAC_BUILD/tests/tools/common-config-check" "$e" "$s/$e.json"
		assert "$n: $e.pin is mode 0600 and not empty" \
			test "$(stat -c %a "$s/$e.pin")" = 600 -a -s "$s/$e.pin"
	done
	assert "$n: pgpass is mode 0600" test "$(stat -c %a "$s/pgpass")" = 600
	assert "$n: the token store is inside DIR" test "$(ls "$s/tokens" | wc -l)" -eq 2
done

# independence: a table made in one cluster does not exist in the other
check "s1 and s2 are separate clusters" bash -c "
	. '$S1/env' && psql -XAq -U eac_admin -d postgres -c 'create table only_in_s1(x int)' &&
	. '$S2/env' && ! psql -XAq -U eac_admin -d postgres -c 'select * from only_in_s1' 2>/dev/null"
check "s1 and s2 have different PINs" bash -c "! cmp -s '$S1/cvca.pin' '$S2/cvca.pin'"
check "s2 carries its own country in its national policy" grep -q '"country": "DE"' "$S2/policy.json"

# no secret reaches the set-up log
for s in "$S1" "$S2"; do
	n=$(basename "$s")
	check "$n: no PIN or password appears in the sandbox output" bash -c "
		for f in '$s'/*.pin '$s'/.*.pw '$s'/.*.so-pin; do
			! grep -qF \"\$(cat \$f)\" '$T_DIR/.sandbox-$n.log' || exit 1
		done"
done

# idempotent: again on the same DIR changes nothing that matters
pin_before=$(sha256sum "$S1/cvca.pin")
check "running the sandbox again on s1 is harmless" "$EAC_TOP/packaging/sandbox" "$S1"
assert "s1 PIN unchanged by a second run" test "$(sha256sum "$S1/cvca.pin")" = "$pin_before"
check "s1 still holds its table after the second run" bash -c ". '$S1/env' && psql -XAq -U eac_admin -d postgres -c 'select * from only_in_s1'"

# stop and start
check "stop s1" "$EAC_TOP/packaging/sandbox" "$S1" stop
check "s1 refuses connections when stopped" bash -c ". '$S1/env' && ! psql -XAtc 'select 1' 2>/dev/null"
check "s2 keeps running while s1 is stopped" bash -c ". '$S2/env' && psql -XAtc 'select 1'"
check "start s1 again" "$EAC_TOP/packaging/sandbox" "$S1"
check "s1 accepts connections again" bash -c ". '$S1/env' && psql -XAtc 'select 1'"

# the strict loader names unknown and duplicate keys
sed 's/"data_dir"/"data_dri"/' "$S1/cvca.json" > "$T_DIR/typo.json"
refuse "configuration with an unknown key is refused, naming key and file" 2 \
	"typo.json: unknown key 'data_dri'" "$EAC_BUILD/tests/tools/common-config-check" cvca "$T_DIR/typo.json"
sed 's/"policy":/"engine": "cvca", "policy":/' "$S1/cvca.json" > "$T_DIR/dup.json"
refuse "configuration with a duplicate key is refused, naming key and file" 2 \
	"dup.json:.*duplicate object key near '\"engine\"'" "$EAC_BUILD/tests/tools/common-config-check" cvca "$T_DIR/dup.json"

# release build: hardened, no test hooks
for b in "$EAC_RELEASE_BIN"/*; do
	n=$(basename "$b")
	check "$n: PIE, full RELRO (BIND_NOW), non-executable stack" bash -c "
		readelf -h '$b' | grep -q 'Type: *DYN' &&
		readelf -d '$b' | grep -q 'FLAGS_1.*NOW.*PIE' &&
		readelf -l '$b' | grep -q GNU_RELRO &&
		! readelf -lW '$b' | grep GNU_STACK | grep -q RWE"
	check "$n: release build has no test hooks (EAC_TEST_NOW, EAC_FAILPOINT)" bash -c "
		! grep -qa -e EAC_TEST_NOW -e EAC_FAILPOINT '$b'"
done
check "test build does carry the clock override" grep -qa EAC_TEST_NOW "$EAC_BUILD/tests/tools/common-config-check"

# make install
check "make install PREFIX=/usr DESTDIR=... installs the programs" bash -c "
	make -s -C '$EAC_TOP' install PREFIX=/usr DESTDIR='$T_DIR/root' >/dev/null &&
	test -d '$T_DIR/root/usr/bin' && test -f '$T_DIR/root/usr/share/doc/eac-appliance/LICENSE'"
check "installed programs are the release build (no test hooks)" bash -c "
	for b in '$T_DIR'/root/usr/bin/*; do ! grep -qa EAC_TEST_NOW \"\$b\" || exit 1; done"
check "make install refuses a test build" bash -c "
	! make -s -C '$EAC_TOP' install TESTING=1 BUILD=build/check DESTDIR='$T_DIR/root2' 2>'$T_DIR/i.err' &&
	grep -q 'refusing a test build' '$T_DIR/i.err' && test ! -e '$T_DIR/root2'"

done_testing
