/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Array parameters in PostgreSQL's text form ('{1,2}', '{"a","b"}',
 * '{"\\x0102"}'), so that a batch is one statement over unnest(...) rather
 * than one statement per item. The values are still parameters: no SQL is
 * built from them.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static void put(dbi_arr *a, const char *s, size_t n)
{
	if (a->bad)
		return;
	if (a->len + n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		while (a->len + n + 2 > cap)
			cap *= 2;
		char *p = realloc(a->s, cap);
		if (p == NULL) {
			a->bad = 1;
			return;
		}
		a->s = p;
		a->cap = cap;
	}
	memcpy(a->s + a->len, s, n);
	a->len += n;
	a->s[a->len] = '\0';
}

static void sep(dbi_arr *a)
{
	if (a->len == 0)
		put(a, "{", 1);
	else
		put(a, ",", 1);
}

void dbi_arr_null(dbi_arr *a)
{
	sep(a);
	put(a, "NULL", 4);
}

void dbi_arr_int(dbi_arr *a, int64_t v)
{
	char b[24];
	sep(a);
	put(a, b, (size_t)snprintf(b, sizeof(b), "%lld", (long long)v));
}

void dbi_arr_id(dbi_arr *a, int64_t v)
{
	if (v == 0)
		dbi_arr_null(a);
	else
		dbi_arr_int(a, v);
}

/* a quoted element: " and \ escaped */
static void quoted(dbi_arr *a, const char *s)
{
	sep(a);
	put(a, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(a, "\\", 1);
		put(a, s, 1);
	}
	put(a, "\"", 1);
}

void dbi_arr_text(dbi_arr *a, const char *s)
{
	if (s == NULL)
		dbi_arr_null(a);
	else
		quoted(a, s);
}

void dbi_arr_latin1(dbi_arr *a, const char *s)
{
	char u[80];
	if (s == NULL) {
		dbi_arr_null(a);
		return;
	}
	if (strlen(s) > 32 || dbi_latin1_to_utf8(s, u, sizeof(u)) != 0) {
		a->bad = 1;
		return;
	}
	quoted(a, u);
}

void dbi_arr_bytes(dbi_arr *a, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (b == NULL) {
		dbi_arr_null(a);
		return;
	}
	sep(a);
	put(a, "\"\\\\x", 4); /* "\\x: the element's backslash, escaped */
	for (size_t i = 0; i < n; i++) {
		char h[2] = { hex[b[i] >> 4], hex[b[i] & 15] };
		put(a, h, 2);
	}
	put(a, "\"", 1);
}

const char *dbi_arr_done(dbi_arr *a)
{
	if (a->len == 0)
		put(a, "{", 1);
	put(a, "}", 1);
	return a->bad ? NULL : a->s;
}

void dbi_arr_free(dbi_arr *a)
{
	free(a->s);
	memset(a, 0, sizeof(*a));
}
