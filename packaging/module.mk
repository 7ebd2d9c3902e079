# SPDX-License-Identifier: Apache-2.0
# packaging/: the sandbox's token initialiser (not installed by `make install`).
EXTRA_TARGETS += $(BUILD)/bin/eac-p11-init
$(BUILD)/bin/eac-p11-init: $(BUILD)/obj/packaging/eac-p11-init.o $(BUILD)/lib/libeac_common.a
	@mkdir -p $(@D)
	$(LINK) -o $@ $^ $(PKG_LIBS) -ldl
