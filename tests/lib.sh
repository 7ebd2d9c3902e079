# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Shared helpers for the integration tests (tests/integration/*.sh), which
# print TAP: one "ok N - what" or "not ok N - what" per assertion and a plan
# at the end. Source it first thing:
#   . "$(dirname "$0")/../lib.sh"
# Environment (set by tests/run; defaults let a test run on its own):
#   EAC_TOP  the source tree      EAC_BIN  binaries under test (test build)
#   EAC_RELEASE_BIN  release binaries (build/bin)

set -u
EAC_TOP=${EAC_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
EAC_BUILD=${EAC_BUILD:-$EAC_TOP/build/check}
EAC_BIN=${EAC_BIN:-$EAC_BUILD/bin}
EAC_RELEASE_BIN=${EAC_RELEASE_BIN:-$EAC_TOP/build/bin}
export EAC_TOP EAC_BUILD EAC_BIN EAC_RELEASE_BIN

T_N=0
T_FAILED=0
T_DIR=$(mktemp -d /tmp/eac-test.XXXXXX)
# traversable (not listable), so the sandboxes' servers can run as user postgres
chmod 0711 "$T_DIR"
T_SANDBOXES=()
T_OUT=$T_DIR/.out
T_ERR=$T_DIR/.err
# Everything the commands under test print is kept here, next to the TAP
# log, so the suite's last step can prove no PIN appears in any output.
T_NAME=$(basename "$0" .sh)
T_CAPTURE=${EAC_BUILD}/test-logs/integration_${T_NAME}.outputs
mkdir -p "$(dirname "$T_CAPTURE")" && : > "$T_CAPTURE"

t_cleanup() {
	local s
	for s in "${T_SANDBOXES[@]}"; do
		"$EAC_TOP/packaging/sandbox" "$s" stop >/dev/null 2>&1 || true
		# the server log and every file the test left in the sandbox go to
		# the capture too (PIN files and the token store excepted)
		find "$s" -type f ! -name '*.pin' ! -name '.*pin' ! -path '*/tokens/*' \
			! -path '*/pg/*' -size -2M -print0 2>/dev/null |
			xargs -0 -r grep -l -a -- "${EAC_TEST_PIN_MARKER:-no-marker-set}" 2>/dev/null |
			while read -r f; do
				T_N=$((T_N + 1)); echo "not ok $T_N - a PIN leaked into $f"
			done
		cat "$s/pglog/server.log" >> "$T_CAPTURE" 2>/dev/null || true
	done
	if [ "$T_FAILED" -eq 0 ] || [ -z "${KEEP_FAILED:-}" ]; then
		rm -rf "$T_DIR"
	else
		echo "# kept $T_DIR"
	fi
}
trap t_cleanup EXIT

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
diag() { sed 's/^/# /' "$@"; }

capture() { cat "$T_OUT" "$T_ERR" >> "$T_CAPTURE" 2>/dev/null || true; }

# check DESC CMD...: CMD succeeds
check() {
	local desc=$1; shift
	"$@" >"$T_OUT" 2>"$T_ERR"
	local rc=$?
	capture
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc)"
		diag "$T_OUT" "$T_ERR"
	fi
}

# refuse DESC RC PATTERN CMD...: CMD exits with status RC, and its stderr is
# exactly one line matching the extended regex PATTERN
refuse() {
	local desc=$1 want=$2 pat=$3; shift 3
	"$@" >"$T_OUT" 2>"$T_ERR"
	local rc=$?
	capture
	if [ "$rc" -eq "$want" ] && [ "$(wc -l < "$T_ERR")" -eq 1 ] && grep -Eq -- "$pat" "$T_ERR"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc, wanted $want and one line matching /$pat/)"
		diag "$T_OUT" "$T_ERR"
	fi
}

# assert DESC TEST-EXPRESSION...: like `check` for a shell test
assert() { local desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }

# PKCS#11 call counts through the fault module (docs/HSM.md §8): with
# P11FAULT_COUNTS=$COUNTS, calls FUNC is how often the last command called
# FUNC (no counts file: the module was never loaded, no call at all).
# p11_signed DESC CMD...: CMD succeeds and made at least one C_Sign.
# p11_refused PROG DESC RULE CMD...: exit 1, one stderr line
# "PROG: refused: … (RULE)", and no C_Sign.
calls() { if [ -f "${COUNTS:-/nonexistent}" ]; then sed -n "s/^$1=//p" "$COUNTS"; else echo 0; fi; }
p11_signed() {
	local desc=$1; shift
	rm -f "$COUNTS"
	check "$desc" "$@"
	assert "$desc: signed in the token (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -ge 1
}
p11_refused() {
	local prog=$1 desc=$2 rule=$3; shift 3
	rm -f "$COUNTS"
	refuse "$desc ($rule)" 1 "^$prog: refused: .*\\(${rule//./\\.}\\)\$" "$@"
	assert "$desc: nothing signed (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 0
}

# hex without xxd (a separate package on Debian): hexof FILE, unhex < HEX
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
unhex() { local h; h=$(cat); printf '%b' "$(printf '%s' "$h" | sed 's/../\\x&/g')"; }

# the output of the last check/refuse
last_out() { cat "$T_OUT"; }
last_err() { cat "$T_ERR"; }

# new_sandbox NAME [--country CC]: a fresh sandbox in the test's directory;
# prints its path. Stopped on exit.
new_sandbox() {
	local dir=$T_DIR/$1; shift
	"$EAC_TOP/packaging/sandbox" "$dir" "$@" >"$T_DIR/.sandbox-$(basename "$dir").log" 2>&1 \
		|| { cat "$T_DIR/.sandbox-$(basename "$dir").log" >&2; return 1; }
	echo "$dir"
}
# register a sandbox for cleanup (new_sandbox runs in a subshell when captured)
track_sandbox() { T_SANDBOXES+=("$1"); }

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
