/* SPDX-License-Identifier: Apache-2.0 */
/* engine/ private: the opened engine. */
#ifndef EAC_ENGINE_INTERNAL_H
#define EAC_ENGINE_INTERNAL_H

#include "engine/engine.h"

struct eng {
	eng_opts opts;
	char default_config[64];
	eac_config cfg;
	uint8_t config_hash[EAC_SHA256_LEN];
	pol_national *pol;
	db_conn *db;
	hsm_ctx *hsm;
	char actor[201];
	int exit_status;
};

#endif
