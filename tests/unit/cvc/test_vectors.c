/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vector corpus of tests/vectors/, one test per file:
 *   bad/      every malformed file is refused with its expected code and
 *             detail (EXPECTED); the "verify" ones parse and then fail
 *             verification against good/
 *   flipped/  one flipped bit each: parse, fail verification
 *   good/     parse, re-encode byte-identical, verify (chains, requests)
 *   real-world/  OpenPACE's published certificates: parse, re-encode
 *             byte-identical, the self-signed ones verify (no date check)
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/cvc/helpers.h"

typedef struct vec {
	char dir[16];
	char name[256];
	char stage[8];
	eac_err code;
	char re[512];
	char test[300];
} vec;

static eac_err code_by_name(const char *n)
{
	for (int c = 0; c < EAC_ERR__COUNT; c++) {
		static const char *names[] = { "OK", "INTERNAL", "NOMEM", "USAGE", "IO", "CONFIG", "MALFORMED",
					       "UNSUPPORTED", "SIGNATURE", "CHAIN", "DATE" };
		if (c < (int)(sizeof(names) / sizeof(names[0])) && strcmp(n, names[c]) == 0)
			return (eac_err)c;
	}
	return EAC_ERR__COUNT;
}

/* The trust of the "verify" vectors: good/'s CVCA and DV. */
static cvc_store *good_store(void)
{
	static const char *files[] = { "tests/vectors/good/DECVCA00001", "tests/vectors/good/DEDVCA00001",
				       "tests/vectors/good/DECVCA00002.link" };
	cvc_store *s = NULL;
	assert_int_equal(cvc_store_new(&s), EAC_OK);
	for (size_t i = 0; i < 3; i++) {
		size_t len;
		uint8_t *b = h_file(files[i], &len);
		assert_int_equal(cvc_store_add(s, b, len), EAC_OK);
		free(b);
	}
	return s;
}

static void run_vec(void **state)
{
	const vec *v = *state;
	char rel[600];
	size_t len;
	cvc_obj *o = NULL;
	snprintf(rel, sizeof(rel), "tests/vectors/%s/%s", v->dir, v->name);
	uint8_t *buf = h_file(rel, &len);
	eac_err e = cvc_parse(buf, len, &o);
	if (strcmp(v->stage, "parse") == 0) {
		h_assert_err(e, v->code, v->re);
		assert_null(o);
	} else {
		if (e != EAC_OK)
			fail_msg("%s should parse: %s", v->name, eac_err_detail(e));
		cvc_store *s = good_store();
		h_assert_err(cvc_store_verify(s, o, NULL, NULL), v->code, v->re);
		cvc_store_free(s);
		cvc_obj_free(o);
	}
	free(buf);
}

/* Valid objects: parse, re-encode identically, verify. */
static void run_good(void **state)
{
	const vec *v = *state;
	char rel[600];
	size_t len, relen = 0;
	uint8_t *re = NULL;
	snprintf(rel, sizeof(rel), "tests/vectors/%s/%s", v->dir, v->name);
	uint8_t *buf = h_file(rel, &len);
	cvc_obj *o = h_parse(buf, len);
	assert_int_equal(cvc_obj_reencode(o, &re, &relen), EAC_OK);
	assert_int_equal(relen, len);
	assert_memory_equal(re, buf, len);
	if (strcmp(v->dir, "good") == 0) {
		cvc_store *s = good_store();
		assert_int_equal(cvc_store_verify(s, o, NULL, NULL), EAC_OK);
		cvc_store_free(s);
	} else if (cvc_obj_self_signed(o)) {
		assert_int_equal(cvc_verify_cert(o, &cvc_obj_body(o)->key, NULL), EAC_OK);
	}
	free(re);
	free(buf);
	cvc_obj_free(o);
}

static size_t load_manifest(const char *dir, vec *out, size_t max)
{
	char rel[128], line[1024];
	snprintf(rel, sizeof(rel), "%s/tests/vectors/%s/EXPECTED", getenv("EAC_TOP") ? getenv("EAC_TOP") : ".", dir);
	FILE *f = fopen(rel, "r");
	size_t n = 0;
	if (!f) {
		fprintf(stderr, "cannot open %s\n", rel);
		exit(1);
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		char *name = strtok(line, "\t"), *stage = strtok(NULL, "\t"), *code = strtok(NULL, "\t"),
		     *re = strtok(NULL, "");
		vec *v = &out[n];
		if (!name || !stage || !code || !re || code_by_name(code) == EAC_ERR__COUNT) {
			fprintf(stderr, "%s: bad line\n", rel);
			exit(1);
		}
		snprintf(v->dir, sizeof(v->dir), "%s", dir);
		snprintf(v->name, sizeof(v->name), "%s", name);
		snprintf(v->stage, sizeof(v->stage), "%s", stage);
		v->code = code_by_name(code);
		snprintf(v->re, sizeof(v->re), "%s", re);
		snprintf(v->test, sizeof(v->test), "%s/%s", dir, name);
		n++;
	}
	fclose(f);
	return n;
}

static size_t list_dir(const char *dir, vec *out, size_t max)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/tests/vectors/%s", getenv("EAC_TOP") ? getenv("EAC_TOP") : ".", dir);
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;
	if (!d) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	while (n < max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".md"))
			continue;
		vec *v = &out[n++];
		memset(v, 0, sizeof(*v));
		snprintf(v->dir, sizeof(v->dir), "%s", dir);
		snprintf(v->name, sizeof(v->name), "%s", de->d_name);
		snprintf(v->test, sizeof(v->test), "%s/%s", dir, de->d_name);
	}
	closedir(d);
	return n;
}

static void test_corpus_complete(void **state)
{
	const size_t *counts = *state;
	/* a vanished manifest must not make the suite pass quietly */
	assert_true(counts[0] >= 80);
	assert_true(counts[1] >= 15);
	assert_true(counts[2] >= 8);
	assert_int_equal(counts[3], 5);
}

int main(void)
{
	static vec vecs[400];
	static struct CMUnitTest tests[401];
	static size_t counts[4];
	size_t n = 0, t = 0;

	counts[0] = load_manifest("bad", vecs + n, 400 - n);
	n += counts[0];
	counts[1] = load_manifest("flipped", vecs + n, 400 - n);
	n += counts[1];
	for (size_t i = 0; i < n; i++)
		tests[t++] = (struct CMUnitTest){ vecs[i].test, run_vec, NULL, NULL, &vecs[i] };
	size_t g = n;
	counts[2] = list_dir("good", vecs + n, 400 - n);
	n += counts[2];
	counts[3] = list_dir("real-world", vecs + n, 400 - n);
	n += counts[3];
	for (size_t i = g; i < n; i++)
		tests[t++] = (struct CMUnitTest){ vecs[i].test, run_good, NULL, NULL, &vecs[i] };
	tests[t++] = (struct CMUnitTest){ "corpus complete", test_corpus_complete, NULL, NULL, counts };
	return _cmocka_run_group_tests("cvc-vectors", tests, t, NULL, NULL);
}
