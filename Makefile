# SPDX-License-Identifier: Apache-2.0
#
# The two commands of the README:
#   make demo    install what is missing, build, run the whole PKI in var/demo/
#   make check   install what is missing, build, run every test
# Others: make (release build into build/), make asan, make fuzz, make bench,
#         make soak, make install PREFIX=... DESTDIR=..., make clean.
#
# Layout of a build directory $(BUILD):
#   obj/  objects      lib/  module archives (libeac_<module>.a), p11fault.so
#   bin/  programs     tests/ unit-test and test-tool binaries
# Release: BUILD=build. Test builds (TESTING=1) compile in the test hooks —
# clock override and failpoints — and live in build/check and build/asan;
# `make install` refuses them.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:
SHELL := /bin/bash

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
TESTING  ?= 0
SANITIZE ?= 0
CC       ?= cc
N        ?= 2000
FUZZ_SECONDS ?= 60

# Modules in link order: engines first, common last (dependencies point one
# way: engines -> engine -> policy, cvc, hsm, db -> common).
MODULES := ca-core dv-core engine policy db hsm cvc common

# Library dependencies, resolved once and only when a build needs them, so
# `make check` can install them first.
PKGS := libcrypto libp11 libpq jansson
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) p11-kit-1))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wundef -Wimplicit-fallthrough \
	-Wno-missing-field-initializers
CPPFLAGS_ALL := -I. -D_GNU_SOURCE
CFLAGS_ALL := -std=c11 -g -fPIE -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fno-strict-aliasing $(WARN)
LDFLAGS_ALL := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed -pthread

ifeq ($(SANITIZE),1)
CFLAGS_ALL += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS_ALL += -fsanitize=address,undefined
else
CFLAGS_ALL += -O2
CPPFLAGS_ALL += -D_FORTIFY_SOURCE=2
endif
ifeq ($(TESTING),1)
CPPFLAGS_ALL += -DEAC_TESTING
endif

# Module fragments (optional): extra rules a module needs, e.g. generated
# sources or the PKCS#11 fault-injection module in tests/.
FRAGMENTS := $(sort $(wildcard */module.mk tests/*/module.mk))
include $(FRAGMENTS)

# A module's library is every <module>/*.c except program mains, which are
# named after their program: <module>/eac-*.c.
lib_srcs = $(filter-out $(1)/eac-%.c,$(wildcard $(1)/*.c)) $($(1)_EXTRA_SRCS)
lib_of = $(if $(strip $(call lib_srcs,$(1))),$(BUILD)/lib/libeac_$(1).a)

# What each module may use: the one-way dependencies of docs/ARCHITECTURE.md.
# A program or test links only its module and these, so a module that
# reaches past its dependencies does not link.
DEPS_common :=
DEPS_cvc := common
DEPS_policy := cvc common
DEPS_hsm := cvc common
DEPS_db := common
DEPS_engine := policy db hsm cvc common
DEPS_ca-core := engine policy db hsm cvc common
DEPS_dv-core := engine policy db hsm cvc common
libs_for = $(foreach m,$(1) $(DEPS_$(1)),$(call lib_of,$(m)))

PROG_SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/eac-*.c))
PROGS := $(notdir $(PROG_SRCS:.c=))

# Tests: tests/unit/<module>/test_*.c are cmocka programs; other .c files in
# that folder are helpers linked into each of them. tests/tools/<module>-*.c
# are test tools of one module; other tools link every module.
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst %.c,$(BUILD)/%,$(TOOL_SRCS))
unit_helpers = $(filter-out tests/unit/$(1)/test_%.c,$(wildcard tests/unit/$(1)/*.c))
tool_module = $(firstword $(filter $(MODULES),$(foreach m,$(MODULES),$(if $(filter $(m)-%,$(1)),$(m)))))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

COMPILE = $(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(CFLAGS_ALL) $(CPPFLAGS) $(CFLAGS)
LINK = $(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) $(LDFLAGS)
CMOCKA_LIBS = $(eval CMOCKA_LIBS := $(shell pkg-config --libs cmocka))$(CMOCKA_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(COMPILE) -MMD -MP -c $< -o $@

define module_lib
$(BUILD)/lib/libeac_$(1).a: $(call obj,$(call lib_srcs,$(1)))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(if $(strip $(call lib_srcs,$(m))),$(eval $(call module_lib,$(m)))))

define prog_rule
$(BUILD)/bin/$(notdir $(1:.c=)): $(call obj,$(1)) $(call libs_for,$(patsubst %/,%,$(dir $(1))))
	@mkdir -p $$(@D)
	$$(LINK) -o $$@ $$^ $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach p,$(PROG_SRCS),$(eval $(call prog_rule,$(p))))

define unit_rule
$(BUILD)/$(1:.c=): $(call obj,$(1) $(call unit_helpers,$(word 3,$(subst /, ,$(1))))) \
		$(call libs_for,$(word 3,$(subst /, ,$(1))))
	@mkdir -p $$(@D)
	$$(LINK) -o $$@ $$^ $$(CMOCKA_LIBS) $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRCS),$(eval $(call unit_rule,$(t))))

define tool_rule
$(BUILD)/$(1:.c=): $(call obj,$(1)) \
		$(if $(call tool_module,$(notdir $(1))),$(call libs_for,$(call tool_module,$(notdir $(1)))),$(foreach m,$(MODULES),$(call lib_of,$(m))))
	@mkdir -p $$(@D)
	$$(LINK) -o $$@ $$^ $$(CMOCKA_LIBS) $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach t,$(TOOL_SRCS),$(eval $(call tool_rule,$(t))))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

BIN_TARGETS := $(addprefix $(BUILD)/bin/,$(PROGS))
TEST_TARGETS := $(UNIT_BINS) $(TOOL_BINS) $(EXTRA_TEST_TARGETS)

.PHONY: all build-tests deps check asan demo fuzz fuzz-replay bench soak install clean distclean

all: $(BIN_TARGETS) $(EXTRA_TARGETS)

build-tests: all $(TEST_TARGETS)

deps:
	@packaging/install-deps

# The test suite runs against a test build (hooks compiled in). The release
# build is made too: the demo and `make install` use it, and the suite
# checks that the hooks are absent from it.
check: deps
	@$(MAKE) --no-print-directory all BUILD=build
	@$(MAKE) --no-print-directory build-tests BUILD=build/check TESTING=1
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run build/check

asan: deps
	@$(MAKE) --no-print-directory all BUILD=build
	@$(MAKE) --no-print-directory build-tests BUILD=build/asan TESTING=1 SANITIZE=1
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run build/asan

# The demo plays 95 days of the PKI's life (CP-5.4a's 90 days) with the
# test build's clock override, so it runs the test build's programs.
demo: deps
	@$(MAKE) --no-print-directory all BUILD=build
	@$(MAKE) --no-print-directory all BUILD=build/check TESTING=1
	@packaging/demo var/demo

# Fuzzers (libFuzzer, clang, ASan+UBSan): tests/fuzz/fuzz_*.c with a corpus
# in tests/fuzz/corpus/<name>/. `make check` replays the corpora;
# `make fuzz` mutates each target for FUZZ_SECONDS.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(foreach m,$(FUZZ_MODULES),$(call lib_srcs,$(m)))
FUZZ_CFLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(WARN) $(CPPFLAGS_ALL)
.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(PKG_LIBS)

fuzz: deps fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS)

bench: deps
	@$(MAKE) --no-print-directory all BUILD=build
	@$(MAKE) --no-print-directory build-tests BUILD=build/check TESTING=1
	@tests/bench/run $(N)

soak: deps
	@$(MAKE) --no-print-directory build-tests BUILD=build/check TESTING=1
	@tests/soak/run

install: all
	@if [ "$(TESTING)" = 1 ]; then echo "make install: refusing a test build (TESTING=1)" >&2; exit 2; fi
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/doc/eac-appliance
	$(if $(BIN_TARGETS),install -m 0755 $(BIN_TARGETS) $(DESTDIR)$(PREFIX)/bin/)
	for m in $(wildcard docs/man/*.1); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done
	install -m 0644 README.md LICENSE $(wildcard docs/*.md) $(DESTDIR)$(PREFIX)/share/doc/eac-appliance/

clean:
	rm -rf build

distclean: clean
	@for d in var/*/; do [ -d "$$d" ] && packaging/sandbox "$$d" stop >/dev/null 2>&1; done; true
	rm -rf var
