/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict JSON for configuration and policy files: duplicate keys and
 * unknown keys are errors that name the key and the file, so a typo in a
 * key-ceremony configuration never silently falls back to a default.
 */

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static eac_err load_result(json_t *j, const json_error_t *e, const char *what, json_t **out)
{
	if (j == NULL)
		return eac_fail(EAC_ERR_CONFIG, "%s:%d:%d: %s", what, e->line, e->column, e->text);
	if (!json_is_object(j)) {
		json_decref(j);
		return eac_fail(EAC_ERR_CONFIG, "%s: top level must be a JSON object", what);
	}
	*out = j;
	return EAC_OK;
}

eac_err eac_json_load_string(const char *text, const char *what, json_t **out)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	return load_result(j, &e, what, out);
}

eac_err eac_json_load_file(const char *path, json_t **out)
{
	eac_err r;
	uint8_t *buf = NULL;
	size_t len = 0;
	json_error_t e;

	if ((r = eac_file_read(path, EAC_JSON_MAX_FILE, &buf, &len)) != EAC_OK)
		return eac_fail(EAC_ERR_CONFIG, "%s", eac_err_detail(r));
	json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &e);
	free(buf);
	return load_result(j, &e, path, out);
}

eac_err eac_json_only_keys(const json_t *obj, const char *const *allowed, const char *where)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return eac_fail(EAC_ERR_CONFIG, "%s: must be an object", where);
	json_object_foreach((json_t *)obj, key, v) {
		const char *const *a;
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL)
			return eac_fail(EAC_ERR_CONFIG, "%s: unknown key '%s'", where, key);
	}
	return EAC_OK;
}

static eac_err get(const json_t *obj, const char *key, int required, const char *where,
		   json_t **v)
{
	*v = json_object_get(obj, key);
	if (*v == NULL && required)
		return eac_fail(EAC_ERR_CONFIG, "%s: missing key '%s'", where, key);
	return EAC_OK;
}

eac_err eac_json_string(const json_t *obj, const char *key, int required, const char *where,
			const char **out)
{
	json_t *v;
	eac_err r = get(obj, key, required, where, &v);
	if (r != EAC_OK || v == NULL)
		return r;
	if (!json_is_string(v))
		return eac_fail(EAC_ERR_CONFIG, "%s: '%s' must be a string", where, key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return eac_fail(EAC_ERR_CONFIG, "%s: '%s' contains a NUL character", where, key);
	*out = json_string_value(v);
	return EAC_OK;
}

eac_err eac_json_int(const json_t *obj, const char *key, int required, const char *where,
		     long long min, long long max, long long *out)
{
	json_t *v;
	eac_err r = get(obj, key, required, where, &v);
	if (r != EAC_OK || v == NULL)
		return r;
	if (!json_is_integer(v))
		return eac_fail(EAC_ERR_CONFIG, "%s: '%s' must be an integer", where, key);
	long long x = json_integer_value(v);
	if (x < min || x > max)
		return eac_fail(EAC_ERR_CONFIG, "%s: '%s' = %lld is outside %lld..%lld", where, key,
				x, min, max);
	*out = x;
	return EAC_OK;
}

eac_err eac_json_bool(const json_t *obj, const char *key, int required, const char *where,
		      int *out)
{
	json_t *v;
	eac_err r = get(obj, key, required, where, &v);
	if (r != EAC_OK || v == NULL)
		return r;
	if (!json_is_boolean(v))
		return eac_fail(EAC_ERR_CONFIG, "%s: '%s' must be true or false", where, key);
	*out = json_is_true(v);
	return EAC_OK;
}

eac_err eac_json_object(const json_t *obj, const char *key, int required, const char *where,
			const json_t **out)
{
	json_t *v;
	eac_err r = get(obj, key, required, where, &v);
	if (r != EAC_OK || v == NULL)
		return r;
	if (!json_is_object(v))
		return eac_fail(EAC_ERR_CONFIG, "%s: '%s' must be an object", where, key);
	*out = v;
	return EAC_OK;
}

eac_err eac_json_array(const json_t *obj, const char *key, int required, const char *where,
		       const json_t **out)
{
	json_t *v;
	eac_err r = get(obj, key, required, where, &v);
	if (r != EAC_OK || v == NULL)
		return r;
	if (!json_is_array(v))
		return eac_fail(EAC_ERR_CONFIG, "%s: '%s' must be an array", where, key);
	*out = v;
	return EAC_OK;
}
