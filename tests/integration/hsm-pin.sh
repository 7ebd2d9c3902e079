#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PIN sources of hsm/: a file only its owner can read, a file descriptor, a
# prompt without echo on the terminal (driven through a pty); never argv, a
# URI or the environment. The process holding a PIN cannot dump core. No PIN
# (all carry the suite's marker) appears in any output of this test.
. "$(dirname "$0")/../lib.sh"

S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }
. "$S/env"
MOD=$(sed -n 's/.*"module": "\(.*\)".*/\1/p' "$S/cvca.json")
TOOL=$EAC_BUILD/tests/tools/hsm-tool
W=$T_DIR/work
mkdir -p "$W"
MARKER=${EAC_TEST_PIN_MARKER:-PINMARKlocal}
export P11FAULT_MODULE=$MOD P11FAULT_COUNTS=$W/counts
count() { sed -n "s/^$1=//p" "$W/counts"; }
t() { "$TOOL" --module "$MOD" --token-uri pkcs11:token=CVCA "$@"; }

# ---- PIN files ----
check "a PIN file of mode 0600 logs in" t --pin-file "$S/cvca.pin" login
cp "$S/cvca.pin" "$W/open.pin" && chmod 644 "$W/open.pin"
refuse "a PIN file others can read is refused" 2 "PIN file .*/open.pin: mode 0644 lets others read it; it must be 0600" \
	t --pin-file "$W/open.pin" login
cp "$S/cvca.pin" "$W/group.pin" && chmod 640 "$W/group.pin"
refuse "a PIN file the group can read is refused" 2 "mode 0640" t --pin-file "$W/group.pin" login
if [ "$(id -u)" = 0 ]; then
	cp "$S/cvca.pin" "$W/other.pin" && chmod 600 "$W/other.pin" && chown 65534 "$W/other.pin"
	refuse "a PIN file owned by someone else is refused" 2 "owned by uid 65534, not by the caller" \
		t --pin-file "$W/other.pin" login
fi
ln -s "$S/cvca.pin" "$W/link.pin"
refuse "a symbolic link is not followed" 3 "PIN file .*/link.pin: Too many levels of symbolic links" \
	t --pin-file "$W/link.pin" login
refuse "a missing PIN file" 3 "PIN file /nonexistent.pin: No such file" t --pin-file /nonexistent.pin login

# ---- file descriptors ----
check "--pin-fd 3" bash -c "'$TOOL' --module '$MOD' --token-uri pkcs11:token=CVCA --pin-fd 3 login 3< '$S/cvca.pin'"
check "--pin-fd 0 from a pipe" bash -c "cat '$S/cvca.pin' | '$TOOL' --module '$MOD' --token-uri pkcs11:token=CVCA --pin-fd 0 login"
refuse "--pin-fd that is no number" 2 "--pin-fd 'x3' is not a file descriptor number" t --pin-fd x3 login
refuse "--pin-fd that is not open" 2 "--pin-fd 77 is not an open file descriptor" t --pin-fd 77 login

# ---- never argv, URI or environment ----
check "there is no option taking a PIN on the command line" bash -c "
	'$TOOL' --module '$MOD' --token-uri pkcs11:token=CVCA --pin 1234 login >/dev/null 2>&1; test \$? -eq 2"
refuse "a URI carrying pin-value is refused" 2 "'pin-value' refused: a PIN never comes from a URI" \
	t --pin-file "$S/cvca.pin" --token-uri 'pkcs11:token=CVCA?pin-value=1234' login
refuse "a URI carrying pin-source is refused" 2 "'pin-source' refused" \
	t --pin-file "$S/cvca.pin" --token-uri "pkcs11:token=CVCA?pin-source=file:$S/cvca.pin" login

# ---- hardening ----
check "the process holding the PIN is not dumpable and has no core limit" t --pin-file "$S/cvca.pin" hardening
assert "dumpable=0 core=0" grep -qx "dumpable=0 core=0" "$T_OUT"

# ---- the prompt, through a pseudo-terminal ----
cat > "$W/ptydrive.py" <<'PY'
# ptydrive.py PINFILE EXPECT_EXIT CMD...: run CMD on a pty, answer its PIN prompt
# (or send Ctrl-C with PINFILE "-"), check that echo is off while it asks and
# that its core limit is 0; print the transcript and the checks.
import os, pty, sys, termios, time, select, signal
pinfile, want, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    # whatever the test runner ignores, the tool starts as from a login shell
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    os.execv(cmd[0], cmd)
out = b""
def read_until(needle, secs=10):
    global out
    end = time.time() + secs
    while needle not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return needle in out
ok = read_until(b"PIN for token CVCA: ")
print("prompt=%s" % ("yes" if ok else "no"))
echo = termios.tcgetattr(fd)[3] & termios.ECHO
print("echo-while-asking=%s" % ("on" if echo else "off"))
with open("/proc/%d/limits" % pid) as f:
    core = [l.split()[4] for l in f if l.startswith("Max core file size")][0]
print("core-limit-while-asking=%s" % core)
if pinfile == "-":
    os.write(fd, b"\x03")
elif ok and not echo:
    with open(pinfile, "rb") as f:
        os.write(fd, f.read().strip() + b"\n")
else:
    # never type a PIN where it could be echoed: that would be this
    # script's leak, not the tool's
    print("pin-not-sent=yes")
    os.kill(pid, signal.SIGKILL)
read_until(b"\x00never", 3)
status = None
for _ in range(150):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    print("hung=yes")
print("echo-after=%s" % ("on" if termios.tcgetattr(fd)[3] & termios.ECHO else "off"))
if os.WIFSIGNALED(status):
    print("signal=%d" % os.WTERMSIG(status))
else:
    print("exit=%d" % os.WEXITSTATUS(status))
print("transcript=%r" % out)
sys.exit(0)
PY
check "the PIN is asked for on the terminal" python3 "$W/ptydrive.py" "$S/cvca.pin" 0 "$TOOL" --module "$MOD" \
	--token-uri pkcs11:token=CVCA login
cp "$T_OUT" "$W/pty.out"
assert "prompt: 'PIN for token CVCA: ' shown" grep -qx prompt=yes "$W/pty.out"
assert "prompt: echo is off while it asks" grep -qx echo-while-asking=off "$W/pty.out"
assert "prompt: core dumps are off while it asks" grep -qx core-limit-while-asking=0 "$W/pty.out"
assert "prompt: echo is back on afterwards" grep -qx echo-after=on "$W/pty.out"
assert "prompt: the login succeeded" bash -c "grep -qx exit=0 '$W/pty.out' && grep -q 'logged in to token' '$W/pty.out'"
assert "prompt: the PIN was not echoed" bash -c "! grep -qF \"\$(cat '$S/cvca.pin')\" '$W/pty.out'"

printf '%sWRONG\n' "$MARKER" > "$W/wrong.pin"
rm -f "$W/counts"
check "a wrong PIN at the prompt" python3 "$W/ptydrive.py" "$W/wrong.pin" 3 "$TOOL" --module "$EAC_BUILD/lib/p11fault.so" \
	--token-uri pkcs11:token=CVCA login
assert "wrong PIN at the prompt: exit 3, one clear message" bash -c "
	grep -qx exit=3 '$T_OUT' && grep -q 'wrong PIN (CKR_PIN_INCORRECT)' '$T_OUT'"
assert "wrong PIN at the prompt: exactly one C_Login" test "$(count C_Login)" = 1

rm -f "$W/counts"
check "Ctrl-C at the prompt" python3 "$W/ptydrive.py" - 0 "$TOOL" --module "$EAC_BUILD/lib/p11fault.so" \
	--token-uri pkcs11:token=CVCA login
assert "Ctrl-C: the tool ends by SIGINT (and does not hang)" bash -c "grep -qx signal=2 '$T_OUT' && ! grep -q hung= '$T_OUT'"
assert "Ctrl-C: echo is restored" grep -qx echo-after=on "$T_OUT"
assert "Ctrl-C: no login was tried" test "$(count C_Login)" = 0

refuse "no terminal and no PIN source: refused" 2 "no terminal to ask for the PIN of token CVCA" \
	setsid -w "$TOOL" --module "$MOD" --token-uri pkcs11:token=CVCA login

# ---- nothing in this test's files carries a PIN ----
assert "no file of the test's work directory (PIN files aside) holds the PIN marker" \
	test -z "$(grep -rlF --exclude='*.pin' -- "$MARKER" "$W")"
done_testing
