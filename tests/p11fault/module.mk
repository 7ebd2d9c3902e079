# SPDX-License-Identifier: Apache-2.0
#
# tests/p11fault/: the fault-injection PKCS#11 module of the tests (see
# docs/HSM.md): a shared object that forwards to a real module, counts the
# calls and injects the errors the environment names. Built by
# `make build-tests`; position-independent and exporting only
# C_GetFunctionList.
P11FAULT_SO := $(BUILD)/lib/p11fault.so
EXTRA_TEST_TARGETS += $(P11FAULT_SO)

$(P11FAULT_SO): tests/p11fault/p11fault.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(filter-out -fPIE,$(CFLAGS_ALL)) $(CPPFLAGS) $(CFLAGS) \
		-fPIC -fvisibility=hidden -shared -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -pthread \
		-o $@ $< -ldl
