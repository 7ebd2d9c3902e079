# SPDX-License-Identifier: Apache-2.0
# cvc/: the fuzzers (tests/fuzz/fuzz_*.c) are built from the sources of
# these modules, with clang, ASan+UBSan and libFuzzer (see the Makefile).
FUZZ_MODULES += cvc common
# The fuzz rule compiles sources directly; rebuild the fuzzers when the
# headers they include change too.
$(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c)): cvc/cvc.h cvc/internal.h common/common.h
