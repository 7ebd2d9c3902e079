/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rendering of a parsed object: JSON (Jansson) for `eac-cvc print --json`
 * and the engines' --json output, and indented text for people. Both show
 * every field decoded: roles and rights by name, dates in ISO 8601.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvc/internal.h"

const char *cvc_role_description(cvc_chat_type t, cvc_role r)
{
	/* TR-03110-3 C.4 Tables 19-22: the DV roles are named per type */
	switch (r) {
	case CVC_ROLE_CVCA: return "CVCA";
	case CVC_ROLE_DV_DOMESTIC:
		return t == CVC_CHAT_ST ? "DV (accreditation body)" : "DV (official domestic)";
	case CVC_ROLE_DV_FOREIGN:
		return t == CVC_CHAT_IS ? "DV (official foreign)"
		       : t == CVC_CHAT_AT ? "DV (non-official / foreign)"
					  : "DV (certification service provider)";
	case CVC_ROLE_TERMINAL:
		return t == CVC_CHAT_IS ? "inspection system"
		       : t == CVC_CHAT_AT ? "authentication terminal"
		       : t == CVC_CHAT_ST ? "signature terminal"
					  : "terminal";
	}
	return "?";
}

/* ISO 8859-1 (CHR mnemonics) to UTF-8, which JSON needs. */
static void latin1_to_utf8(const char *in, size_t len, char *out, size_t outlen)
{
	size_t j = 0;
	for (size_t i = 0; i < len && j + 3 < outlen; i++) {
		uint8_t c = (uint8_t)in[i];
		if (c < 0x80) {
			out[j++] = (char)c;
		} else {
			out[j++] = (char)(0xc0 | c >> 6);
			out[j++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[j] = '\0';
}

static char *hex_of(cvc_bytes b)
{
	char *h = malloc(2 * b.len + 1);
	if (h)
		eac_hex(b.ptr, b.len, h);
	return h;
}

/* ---- JSON ---- */

typedef struct jb {
	int bad;
} jb;

static void put(jb *j, json_t *obj, const char *key, json_t *v)
{
	if (!obj || !v || json_object_set_new(obj, key, v) != 0)
		j->bad = 1;
}

static json_t *jhex(cvc_bytes b)
{
	char *h = hex_of(b);
	json_t *v = h ? json_string(h) : NULL;
	free(h);
	return v;
}

static json_t *jref(jb *j, const cvc_ref *r)
{
	char utf[4 * CVC_REF_MAX], c[3], m[10], s[6], mu[40];
	json_t *o = json_object();
	cvc_ref_country(r, c);
	cvc_ref_mnemonic(r, m);
	cvc_ref_sequence(r, s);
	latin1_to_utf8(r->s, r->len, utf, sizeof(utf));
	latin1_to_utf8(m, strlen(m), mu, sizeof(mu));
	put(j, o, "ref", json_string(utf));
	put(j, o, "country", json_string(c));
	put(j, o, "mnemonic", json_string(mu));
	put(j, o, "sequence", json_string(s));
	return o;
}

static json_t *jkey(jb *j, const cvc_pubkey *k)
{
	char oid[80], hx[2 * EAC_SHA256_LEN + 1];
	uint8_t h[EAC_SHA256_LEN];
	json_t *o = json_object();
	cvc_oid_text(cvc_alg_oid(k->alg), oid, sizeof(oid));
	put(j, o, "algorithm", json_string(cvc_alg_name(k->alg)));
	put(j, o, "oid", json_string(oid));
	if (cvc_alg_is_ec(k->alg)) {
		put(j, o, "type", json_string("EC"));
		put(j, o, "curve", k->curve ? json_string(cvc_curve_name(k->curve)) : json_null());
		put(j, o, "domain_parameters", json_boolean(k->has_params));
		if (k->has_params)
			put(j, o, "cofactor_present", json_boolean(!k->no_cofactor));
		put(j, o, "point", jhex(k->point));
	} else {
		size_t bits = (k->n.len - 1) * 8;
		for (unsigned t = k->n.ptr[0]; t; t >>= 1)
			bits++;
		unsigned long long ev = 0;
		for (size_t i = 0; i < k->e.len; i++)
			ev = ev << 8 | k->e.ptr[i];
		put(j, o, "type", json_string("RSA"));
		put(j, o, "bits", json_integer((json_int_t)bits));
		put(j, o, "modulus", jhex(k->n));
		put(j, o, "exponent", json_integer((json_int_t)ev));
	}
	if (cvc_pubkey_hash(k, h) == EAC_OK) {
		eac_hex(h, sizeof(h), hx);
		put(j, o, "key_sha256", json_string(hx));
	} else {
		j->bad = 1;
	}
	return o;
}

/* The names of the rights set, one array element each. */
static json_t *jrights(const cvc_chat *c)
{
	char list[512];
	json_t *a = json_array();
	if (!a)
		return NULL;
	cvc_rights_format(c, list, sizeof(list));
	for (char *p = list, *save = NULL, *tok; (tok = strtok_r(p, ",", &save)); p = NULL)
		if (json_array_append_new(a, json_string(tok)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *jchat(jb *j, const cvc_chat *c)
{
	char oid[80], t[8];
	json_t *o = json_object();
	cvc_bytes auth = { c->auth, c->len };
	cvc_oid_text(cvc_chat_oid(c->type), oid, sizeof(oid));
	snprintf(t, sizeof(t), "id-%s", cvc_chat_type_name(c->type));
	put(j, o, "type", json_string(t));
	put(j, o, "oid", json_string(oid));
	put(j, o, "role", json_string(cvc_role_name(cvc_chat_role(c))));
	put(j, o, "role_description",
	    json_string(cvc_role_description(c->type, cvc_chat_role(c))));
	put(j, o, "rights", jrights(c));
	put(j, o, "authorization", jhex(auth));
	return o;
}

static json_t *jdate(const cvc_date *d)
{
	char s[11];
	cvc_date_format(d, s);
	return json_string(s);
}

/* The data objects of an extension template, as tag/value pairs. */
static json_t *jext_data(jb *j, cvc_bytes data)
{
	json_t *a = json_array();
	cvc_rd r;
	cvc_rd_init(&r, data.ptr, data.len);
	while (a && cvc_rd_more(&r)) {
		cvc_tlv t;
		char tag[8];
		if (cvc_rd_next(&r, &t) != EAC_OK) {
			j->bad = 1;
			break;
		}
		json_t *o = json_object();
		cvc_bytes v = { t.value, t.vlen };
		snprintf(tag, sizeof(tag), t.tag > 0xff ? "%04X" : "%02X", (unsigned)t.tag);
		put(j, o, "tag", json_string(tag));
		put(j, o, "value", jhex(v));
		if (!o || json_array_append_new(a, o) != 0)
			j->bad = 1;
	}
	return a;
}

static json_t *jexts(jb *j, cvc_bytes ext)
{
	json_t *a = json_array();
	size_t pos = 0;
	cvc_ext x;
	eac_err e = EAC_ERR_NOT_FOUND;
	while (a && (e = cvc_ext_next(ext, &pos, &x)) == EAC_OK) {
		char oid[128];
		const char *name = cvc_ext_name(x.oid);
		json_t *o = json_object();
		cvc_oid_text(x.oid, oid, sizeof(oid));
		put(j, o, "oid", json_string(oid));
		put(j, o, "name", name ? json_string(name) : json_null());
		put(j, o, "objects", jext_data(j, x.data));
		if (!o || json_array_append_new(a, o) != 0)
			j->bad = 1;
	}
	if (e != EAC_ERR_NOT_FOUND)
		j->bad = 1;
	return a;
}

static json_t *jsig(jb *j, cvc_bytes s)
{
	json_t *o = json_object();
	put(j, o, "length", json_integer((json_int_t)s.len));
	put(j, o, "value", jhex(s));
	return o;
}

eac_err cvc_obj_to_json(const cvc_obj *o, json_t **out)
{
	jb j = { 0 };
	char fp[2 * EAC_SHA256_LEN + 1];
	uint8_t h[EAC_SHA256_LEN];
	const cvc_body *b = &o->body;
	json_t *root = json_object();

	if (cvc_obj_fingerprint(o, h) != EAC_OK) {
		json_decref(root);
		return EAC_ERR_INTERNAL;
	}
	eac_hex(h, sizeof(h), fp);
	put(&j, root, "kind", json_string(cvc_kind_name(o->kind)));
	put(&j, root, "size", json_integer((json_int_t)o->len));
	put(&j, root, "sha256", json_string(fp));
	put(&j, root, "profile", json_integer(0));
	put(&j, root, "car", b->has_car ? jref(&j, &b->car) : json_null());
	put(&j, root, "public_key", jkey(&j, &b->key));
	put(&j, root, "chr", jref(&j, &b->chr));
	if (b->has_chat) {
		put(&j, root, "chat", jchat(&j, &b->chat));
		put(&j, root, "effective", jdate(&b->effective));
		put(&j, root, "expiry", jdate(&b->expiry));
		put(&j, root, "self_signed", json_boolean(cvc_obj_self_signed(o)));
	}
	put(&j, root, "extensions", b->ext.len ? jexts(&j, b->ext) : json_array());
	put(&j, root, "signature", jsig(&j, o->sig));
	if (o->has_outer) {
		json_t *outer = json_object();
		put(&j, outer, "car", jref(&j, &o->outer_car));
		put(&j, outer, "signature", jsig(&j, o->outer_sig));
		put(&j, root, "outer", outer);
	}
	if (j.bad) {
		json_decref(root);
		return eac_fail(EAC_ERR_NOMEM, "out of memory rendering %s as JSON", b->chr.s);
	}
	*out = root;
	return EAC_OK;
}

/* ---- text ---- */

typedef struct sb {
	char *p;
	size_t len, cap;
	int bad;
} sb;

static void sb_printf(sb *s, const char *fmt, ...) EAC_PRINTF(2, 3);
static void sb_printf(sb *s, const char *fmt, ...)
{
	va_list ap;
	if (s->bad)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(s->p ? s->p + s->len : NULL, s->p ? s->cap - s->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			s->bad = 1;
			return;
		}
		if (s->p && (size_t)n < s->cap - s->len) {
			s->len += (size_t)n;
			return;
		}
		size_t cap = s->cap ? s->cap : 1024;
		while (cap < s->len + (size_t)n + 1)
			cap *= 2;
		char *q = realloc(s->p, cap);
		if (!q) {
			s->bad = 1;
			return;
		}
		s->p = q;
		s->cap = cap;
	}
}

static void sb_hex(sb *s, const char *label, cvc_bytes b)
{
	char *h = hex_of(b);
	if (!h) {
		s->bad = 1;
		return;
	}
	sb_printf(s, "%s%s\n", label, h);
	free(h);
}

static void text_ref(sb *s, const char *label, const cvc_ref *r)
{
	char c[3], m[10], q[6], utf[4 * CVC_REF_MAX], mu[40];
	cvc_ref_country(r, c);
	cvc_ref_mnemonic(r, m);
	cvc_ref_sequence(r, q);
	latin1_to_utf8(r->s, r->len, utf, sizeof(utf));
	latin1_to_utf8(m, strlen(m), mu, sizeof(mu));
	sb_printf(s, "  %-20s%s (country %s, mnemonic '%s', sequence %s)\n", label, utf, c, mu, q);
}

eac_err cvc_obj_to_text(const cvc_obj *o, char **out)
{
	sb s = { 0 };
	const cvc_body *b = &o->body;
	uint8_t h[EAC_SHA256_LEN];
	char hx[2 * EAC_SHA256_LEN + 1], oid[128], d[11];

	if (cvc_obj_fingerprint(o, h) != EAC_OK)
		return EAC_ERR_INTERNAL;
	eac_hex(h, sizeof(h), hx);
	sb_printf(&s, "%s, %zu bytes\n", cvc_kind_name(o->kind), o->len);
	sb_printf(&s, "  %-20s%s\n", "SHA-256:", hx);
	sb_printf(&s, "  %-20s0 (version 1)\n", "profile:");
	if (b->has_car)
		text_ref(&s, "CAR:", &b->car);
	else
		sb_printf(&s, "  %-20s(none)\n", "CAR:");
	const cvc_pubkey *k = &b->key;
	cvc_oid_text(cvc_alg_oid(k->alg), oid, sizeof(oid));
	sb_printf(&s, "  %-20s%s (%s)\n", "public key:", cvc_alg_name(k->alg), oid);
	if (cvc_alg_is_ec(k->alg)) {
		if (k->has_params)
			sb_printf(&s, "    %-18s%s, domain parameters 81..%s\n", "curve:",
				  cvc_curve_name(k->curve), k->no_cofactor ? "86 (no cofactor)" : "87");
		else
			sb_printf(&s, "    %-18s(inherited from the CVCA)\n", "curve:");
		sb_hex(&s, "    point:            ", k->point);
	} else {
		size_t bits = (k->n.len - 1) * 8;
		for (unsigned t = k->n.ptr[0]; t; t >>= 1)
			bits++;
		sb_printf(&s, "    %-18s%zu bits\n", "modulus:", bits);
		sb_hex(&s, "    n:                ", k->n);
		sb_hex(&s, "    e:                ", k->e);
	}
	if (cvc_pubkey_hash(k, h) == EAC_OK) {
		eac_hex(h, sizeof(h), hx);
		sb_printf(&s, "    %-18s%s\n", "key SHA-256:", hx);
	}
	text_ref(&s, "CHR:", &b->chr);
	if (b->has_chat) {
		char rights[512];
		cvc_bytes auth = { b->chat.auth, b->chat.len };
		char *ah = hex_of(auth);
		cvc_oid_text(cvc_chat_oid(b->chat.type), oid, sizeof(oid));
		sb_printf(&s, "  %-20sid-%s (%s), authorization %s\n", "CHAT:",
			  cvc_chat_type_name(b->chat.type), oid, ah ? ah : "?");
		free(ah);
		sb_printf(&s, "    %-18s%s\n", "role:",
			  cvc_role_description(b->chat.type, cvc_chat_role(&b->chat)));
		cvc_rights_format(&b->chat, rights, sizeof(rights));
		sb_printf(&s, "    %-18s%s\n", "rights:", rights[0] ? rights : "(none)");
		cvc_date_format(&b->effective, d);
		sb_printf(&s, "  %-20s%s\n", "effective:", d);
		cvc_date_format(&b->expiry, d);
		sb_printf(&s, "  %-20s%s\n", "expiry:", d);
	}
	if (b->ext.len) {
		size_t pos = 0;
		cvc_ext x;
		sb_printf(&s, "  %-20s\n", "extensions:");
		while (cvc_ext_next(b->ext, &pos, &x) == EAC_OK) {
			const char *name = cvc_ext_name(x.oid);
			cvc_oid_text(x.oid, oid, sizeof(oid));
			sb_printf(&s, "    %s (%s)\n", name ? name : "unknown", oid);
			cvc_rd r;
			cvc_rd_init(&r, x.data.ptr, x.data.len);
			while (cvc_rd_more(&r)) {
				cvc_tlv t;
				if (cvc_rd_next(&r, &t) != EAC_OK)
					break;
				char label[32];
				cvc_bytes v = { t.value, t.vlen };
				snprintf(label, sizeof(label), t.tag > 0xff ? "      %04X: " : "      %02X: ",
					 (unsigned)t.tag);
				sb_hex(&s, label, v);
			}
		}
	}
	sb_printf(&s, "  %-20s%zu octets\n", "signature:", o->sig.len);
	sb_hex(&s, "    ", o->sig);
	if (o->has_outer) {
		text_ref(&s, "outer CAR:", &o->outer_car);
		sb_printf(&s, "  %-20s%zu octets\n", "outer signature:", o->outer_sig.len);
		sb_hex(&s, "    ", o->outer_sig);
	}
	if (s.bad) {
		free(s.p);
		return eac_fail(EAC_ERR_NOMEM, "out of memory rendering %s", b->chr.s);
	}
	*out = s.p;
	return EAC_OK;
}
