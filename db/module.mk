# SPDX-License-Identifier: Apache-2.0
# db/: the schema migrations (db/migrations/NNNN-{common,cvca,dv}.sql) are
# embedded into libeac_db.a as a generated C source.
DB_MIGRATIONS := $(sort $(wildcard db/migrations/*.sql))
db_EXTRA_SRCS := $(BUILD)/gen/db/migrations.c
$(BUILD)/gen/db/migrations.c: $(DB_MIGRATIONS) db/embed-migrations.sh
	@mkdir -p $(@D)
	$(SHELL) db/embed-migrations.sh $@ $(DB_MIGRATIONS)
