/* SPDX-License-Identifier: Apache-2.0 */
/* Engine configuration files: strict JSON, every key known. */

#include <string.h>

#include "common/common.h"

eac_err eac_config_load(const char *path, const char *engine, eac_config *out)
{
	static const char *const top_keys[] = { "engine", "token", "database", "policy",
						"data_dir", NULL };
	static const char *const token_keys[] = { "module", "uri", "pin_file", NULL };
	static const char *const db_keys[] = { "conninfo", "owner_conninfo", NULL };
	char where[512];
	const json_t *token = NULL, *db = NULL;
	eac_config c = { 0 };
	eac_err r;

	if ((r = eac_json_load_file(path, &c.root)) != EAC_OK)
		return r;
	c.path = path;
	if ((r = eac_json_only_keys(c.root, top_keys, path)) != EAC_OK ||
	    (r = eac_json_string(c.root, "engine", 1, path, &c.engine)) != EAC_OK ||
	    (r = eac_json_object(c.root, "token", 1, path, &token)) != EAC_OK ||
	    (r = eac_json_object(c.root, "database", 1, path, &db)) != EAC_OK ||
	    (r = eac_json_string(c.root, "policy", 1, path, &c.policy_path)) != EAC_OK ||
	    (r = eac_json_string(c.root, "data_dir", 1, path, &c.data_dir)) != EAC_OK)
		goto out;
	if (strcmp(c.engine, engine) != 0) {
		r = eac_fail(EAC_ERR_CONFIG, "%s: 'engine' is \"%s\", expected \"%s\"", path,
			     c.engine, engine);
		goto out;
	}
	snprintf(where, sizeof(where), "%s: token", path);
	if ((r = eac_json_only_keys(token, token_keys, where)) != EAC_OK ||
	    (r = eac_json_string(token, "module", 1, where, &c.token_module)) != EAC_OK ||
	    (r = eac_json_string(token, "uri", 1, where, &c.token_uri)) != EAC_OK ||
	    (r = eac_json_string(token, "pin_file", 0, where, &c.token_pin_file)) != EAC_OK)
		goto out;
	snprintf(where, sizeof(where), "%s: database", path);
	if ((r = eac_json_only_keys(db, db_keys, where)) != EAC_OK ||
	    (r = eac_json_string(db, "conninfo", 1, where, &c.db_conninfo)) != EAC_OK ||
	    (r = eac_json_string(db, "owner_conninfo", 0, where, &c.db_owner_conninfo)) != EAC_OK)
		goto out;
	*out = c;
	c.root = NULL;
	r = EAC_OK;
out:
	json_decref(c.root);
	return r;
}

void eac_config_free(eac_config *cfg)
{
	if (cfg == NULL)
		return;
	json_decref(cfg->root);
	memset(cfg, 0, sizeof(*cfg));
}
