#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsm/ under injected token faults (tests/p11fault, docs/HSM.md): one login
# per process however many signatures; a wrong PIN costs exactly one C_Login;
# a locked PIN or one on its final try costs none (the PIN is not even read);
# a device removed while signing gives one clear error, no output and nothing
# partial; every CKR class an officer meets has its own one-line message.
. "$(dirname "$0")/../lib.sh"

S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }
. "$S/env"
REAL=$(sed -n 's/.*"module": "\(.*\)".*/\1/p' "$S/cvca.json")
FAULT=$EAC_BUILD/lib/p11fault.so
TOOL=$EAC_BUILD/tests/tools/hsm-tool
W=$T_DIR/work
mkdir -p "$W"
export P11FAULT_MODULE=$REAL
C=$W/counts
export P11FAULT_COUNTS=$C
# through the fault module; faults come from the environment of each call
cvca() { "$TOOL" --module "$FAULT" --token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" "$@"; }
count() { sed -n "s/^$1=//p" "$C"; }
fresh() { rm -f "$C"; }

assert "the fault module is built" test -f "$FAULT"
check "genkey through the fault module" cvca genkey P-256 FIFAULT0001
check "a second key" cvca genkey brainpoolP256r1 FIFAULT0002
echo "to be signed" > "$W/msg"

# ---- one login, sessions reused ----
fresh
check "100 signatures in one process" cvca sign FIFAULT0001 ECDSA-SHA-256 "$W/msg" "$W/s100" 100
assert "exactly one C_Login for 100 signatures" test "$(count C_Login)" = 1
assert "100 C_SignInit and 100 C_Sign" test "$(count C_SignInit):$(count C_Sign)" = 100:100
assert "two sessions: the login's and one reused for every signature" test "$(count C_OpenSession)" = 2
assert "the counts were written at C_Finalize" test "$(count C_Finalize)" = 1

# ---- wrong PIN: one attempt, clear error ----
printf '%sWRONG' "${EAC_TEST_PIN_MARKER:-PINMARKlocal}" > "$W/wrong.pin"; chmod 600 "$W/wrong.pin"
fresh
refuse "a wrong PIN: one clear line" 3 "^hsm-tool: token DV: wrong PIN \\(CKR_PIN_INCORRECT\\)" \
	"$TOOL" --module "$FAULT" --token-uri pkcs11:token=DV --pin-file "$W/wrong.pin" login
assert "exactly one C_Login was tried" test "$(count C_Login)" = 1
assert "no signature was attempted" test "$(count C_SignInit):$(count C_Sign)" = 0:0
fresh
refuse "an injected CKR_PIN_INCORRECT: the same message" 3 "token CVCA: wrong PIN \\(CKR_PIN_INCORRECT\\)" \
	env P11FAULT_LOGIN_RV=CKR_PIN_INCORRECT "$TOOL" --module "$FAULT" --token-uri pkcs11:token=CVCA \
	--pin-file "$S/cvca.pin" sign FIFAULT0001 ECDSA-SHA-256 "$W/msg" "$W/s-wrong"
assert "one C_Login, no retry" test "$(count C_Login)" = 1
assert "no C_Sign after a failed login" test "$(count C_Sign)" = 0
assert "no signature file" test ! -e "$W/s-wrong"

# ---- locked / final try: no attempt at all ----
chmod 644 "$W/wrong.pin" # were it read, this PIN file would be refused for its mode
fresh
refuse "final-try flag: refused before any login" 3 \
	"token CVCA: the user PIN has one try left; refusing to spend it \\(no login attempted" \
	env P11FAULT_TOKEN_FLAGS=+CKF_USER_PIN_FINAL_TRY "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$W/wrong.pin" login
assert "final try: zero C_Login" test "$(count C_Login)" = 0
fresh
refuse "locked flag: refused before any login" 3 \
	"token CVCA: user PIN locked; the security officer must unlock it \\(no login attempted\\)" \
	env P11FAULT_TOKEN_FLAGS=+CKF_USER_PIN_LOCKED "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$W/wrong.pin" login
assert "locked: zero C_Login" test "$(count C_Login)" = 0
fresh
check "the flag on another token does not stop this one" env P11FAULT_TOKEN_FLAGS=+CKF_USER_PIN_LOCKED \
	P11FAULT_TOKEN_LABEL=DV "$TOOL" --module "$FAULT" --token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" login
assert "one C_Login there" test "$(count C_Login)" = 1
refuse "CKR_PIN_LOCKED from C_Login" 3 "token CVCA: PIN locked: the security officer must unlock it \\(CKR_PIN_LOCKED\\)" \
	env P11FAULT_LOGIN_RV=CKR_PIN_LOCKED "$TOOL" --module "$FAULT" --token-uri pkcs11:token=CVCA \
	--pin-file "$S/cvca.pin" login

# ---- device removed during signing ----
mkdir -p "$W/batch"
fresh
refuse "device removed at the 3rd C_Sign of a batch: one clear line" 3 \
	"^hsm-tool: message 3: token CVCA: signing with key FIFAULT0001 \\(ECDSA-SHA-256\\): device removed \\(CKR_DEVICE_REMOVED\\)\$" \
	env P11FAULT_SIGN_FAIL_AT=3:CKR_DEVICE_REMOVED "$TOOL" --module "$FAULT" --token-uri pkcs11:token=CVCA \
	--pin-file "$S/cvca.pin" sign-many FIFAULT0001 ECDSA-SHA-256 5 "$W/batch"
assert "signatures 1 and 2 were released, 3 to 5 not" \
	test "$(cd "$W/batch" && ls -A | tr '\n' ' ')" = "1.sig 2.sig "
assert "no temporary file left behind" test -z "$(find "$W/batch" -name '.eac-tmp-*')"
assert "exactly three C_Sign calls" test "$(count C_Sign)" = 3
printf 'message 2' > "$W/m2"
check "what was released verifies" cvca verify FIFAULT0001 ECDSA-SHA-256 "$W/m2" "$W/batch/2.sig"
fresh
refuse "device removed for good (every later call fails): one clear line" 3 \
	"token CVCA: signing with key FIFAULT0002 \\(ECDSA-SHA-256\\): device removed \\(CKR_DEVICE_REMOVED\\)" \
	env P11FAULT_REMOVE_AT=C_Sign@2 "$TOOL" --module "$FAULT" --token-uri pkcs11:token=CVCA \
	--pin-file "$S/cvca.pin" sign FIFAULT0002 ECDSA-SHA-256 "$W/msg" "$W/s-removed" 10
assert "no output after a removal" test ! -e "$W/s-removed"
assert "no retry after a removal: 2 C_Sign" test "$(count C_Sign)" = 2
refuse "a lost session is the same class" 3 "session lost: the token was removed or reset \\(CKR_SESSION_HANDLE_INVALID\\)" \
	env P11FAULT_SIGN_FAIL_AT=1:CKR_SESSION_HANDLE_INVALID "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" sign FIFAULT0001 ECDSA-SHA-256 "$W/msg" "$W/s-lost"
assert "no output after a lost session" test ! -e "$W/s-lost"
refuse "device error in C_SignInit" 3 "device error: the token failed or went away \\(CKR_DEVICE_ERROR\\)" \
	env P11FAULT_FAIL=C_SignInit=CKR_DEVICE_ERROR "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" sign FIFAULT0001 ECDSA-SHA-256 "$W/msg" "$W/s-err"

# ---- the other classes ----
refuse "token absent" 3 "no token matching pkcs11:token=HSM2 in .* \\(tokens present: (CVCA, DV|DV, CVCA)\\)" \
	"$TOOL" --module "$FAULT" --token-uri pkcs11:token=HSM2 --pin-file "$S/cvca.pin" login
refuse "mechanism unsupported" 3 "mechanism not supported by the token \\(CKR_MECHANISM_INVALID\\)" \
	env P11FAULT_FAIL=C_SignInit=CKR_MECHANISM_INVALID "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" sign FIFAULT0001 ECDSA-SHA-256 "$W/msg" "$W/s-mech"
refuse "key not found" 3 "token CVCA: key not found: no private key labelled 'FINOKEY0001'" \
	cvca sign FINOKEY0001 ECDSA-SHA-256 "$W/msg" "$W/s-none"
refuse "a module whose C_Initialize fails, its CKR taken from libp11's error queue" 3 \
	"p11fault.so: C_Initialize failed: device error: the token failed or went away \\(CKR_DEVICE_ERROR\\)" \
	env P11FAULT_FAIL=C_Initialize=CKR_DEVICE_ERROR "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" login
refuse "not a PKCS#11 module" 3 "PKCS#11 module /etc/hostname cannot be loaded" \
	"$TOOL" --module /etc/hostname --token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" login

# ---- generation that fails leaves nothing behind ----
fresh
refuse "C_GenerateKeyPair fails: one clear line" 3 "generating EC P-256 key FIFAULT0009: the token is out of memory \\(CKR_DEVICE_MEMORY\\)" \
	env P11FAULT_FAIL=C_GenerateKeyPair=CKR_DEVICE_MEMORY "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" genkey P-256 FIFAULT0009
fresh
refuse "reading the new key back fails: refused" 3 "reading the attributes of a private key: device error" \
	env P11FAULT_FAIL=C_GetAttributeValue@1=CKR_DEVICE_ERROR "$TOOL" --module "$FAULT" \
	--token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" genkey P-256 FIFAULT0008
assert "the half-made key pair was destroyed (2 C_DestroyObject)" test "$(count C_DestroyObject)" = 2
refuse "no key FIFAULT0008 is left in the token" 3 "key not found" cvca find FIFAULT0008
check "the CHR is free again" cvca genkey P-256 FIFAULT0008

# ---- counts survive a killed process ----
mkdir -p "$W/long"
fresh
"$TOOL" --module "$FAULT" --token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" \
	sign-many FIFAULT0001 ECDSA-SHA-256 1000000 "$W/long" >/dev/null 2>"$W/long.err" &
pid=$!
for _ in $(seq 100); do [ "$(count C_Sign 2>/dev/null || echo 0)" -ge 20 ] 2>/dev/null && break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
cat "$W/long.err" >> "$T_CAPTURE"
assert "after SIGKILL the counts file is complete and current" bash -c "
	n=\$(sed -n 's/^C_Sign=//p' '$C'); [ \"\$n\" -ge 20 ] &&
	grep -qx C_Login=1 '$C' && grep -qx C_Finalize=0 '$C' && [ \$(grep -c = '$C') -eq 67 ]"
files=$(find "$W/long" -name '*.sig' | wc -l)
assert "the count matches what was released: files <= C_Sign <= files + 1" \
	test "$files" -le "$(count C_Sign)" -a "$(count C_Sign)" -le $((files + 1))
done_testing
