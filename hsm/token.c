/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening a token: libp11 loads the module and enumerates slots, the URI
 * selects one token, its flags are checked, and the user logs in once on a
 * session that lives as long as the context. Other work runs on a pool of
 * sessions (PKCS#11 login state is per token and application, so every
 * session opened after the login is logged in too).
 */

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "hsm/internal.h"

/* ---- the session pool ---- */

eac_err hsm_session_get(hsm_ctx *ctx, int rw, CK_SESSION_HANDLE *out)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv;

	if (rw) {
		rv = ctx->f->C_OpenSession(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
					   &s);
		if (rv != CKR_OK)
			return hsm_ckr_fail(rv, ctx->info.label, "opening a read/write session");
		*out = s;
		return EAC_OK;
	}
	pthread_mutex_lock(&ctx->lock);
	for (;;) {
		while (ctx->nidle == 0 && ctx->nopen >= ctx->max_open)
			pthread_cond_wait(&ctx->cond, &ctx->lock);
		if (ctx->nidle > 0) {
			*out = ctx->idle[--ctx->nidle];
			pthread_mutex_unlock(&ctx->lock);
			return EAC_OK;
		}
		ctx->nopen++;
		pthread_mutex_unlock(&ctx->lock);
		rv = ctx->f->C_OpenSession(ctx->slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
		pthread_mutex_lock(&ctx->lock);
		if (rv == CKR_OK) {
			pthread_mutex_unlock(&ctx->lock);
			*out = s;
			return EAC_OK;
		}
		ctx->nopen--;
		/* the token's real limit is lower than it said: wait for one of
		 * ours to come back instead of failing the operation */
		if (rv == CKR_SESSION_COUNT && ctx->nopen > 0) {
			ctx->max_open = ctx->nopen;
			continue;
		}
		pthread_cond_signal(&ctx->cond);
		pthread_mutex_unlock(&ctx->lock);
		return hsm_ckr_fail(rv, ctx->info.label, "opening a session");
	}
}

void hsm_session_put(hsm_ctx *ctx, CK_SESSION_HANDLE s)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->idle[ctx->nidle++] = s;
	pthread_cond_signal(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
}

void hsm_session_drop(hsm_ctx *ctx, CK_SESSION_HANDLE s)
{
	(void)ctx->f->C_CloseSession(s);
	pthread_mutex_lock(&ctx->lock);
	ctx->nopen--;
	pthread_cond_signal(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
}

void hsm_session_close_rw(hsm_ctx *ctx, CK_SESSION_HANDLE s)
{
	(void)ctx->f->C_CloseSession(s);
}

/* ---- context lifetime ---- */

static void ctx_destroy(hsm_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->f != NULL) {
		for (unsigned i = 0; i < ctx->nidle; i++)
			(void)ctx->f->C_CloseSession(ctx->idle[i]);
		if (ctx->login_session != CK_INVALID_HANDLE) {
			if (ctx->logged_in)
				(void)ctx->f->C_Logout(ctx->login_session);
			(void)ctx->f->C_CloseSession(ctx->login_session);
		}
	}
	if (ctx->p11 != NULL) {
		if (ctx->slots != NULL)
			PKCS11_release_all_slots(ctx->p11, ctx->slots, ctx->nslots);
		if (ctx->loaded)
			PKCS11_CTX_unload(ctx->p11);
		PKCS11_CTX_free(ctx->p11);
	}
	/* our handle last: the module stays mapped until libp11 has finalised it */
	if (ctx->dl != NULL)
		dlclose(ctx->dl);
	for (int i = 0; i < HSM_MD__COUNT; i++)
		EVP_MD_free(ctx->md[i]);
	pthread_cond_destroy(&ctx->cond);
	pthread_mutex_destroy(&ctx->lock);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}

void hsm_ctx_unref(hsm_ctx *ctx)
{
	if (ctx != NULL && atomic_fetch_sub(&ctx->refs, 1) == 1)
		ctx_destroy(ctx);
}

void hsm_close(hsm_ctx *ctx)
{
	hsm_ctx_unref(ctx);
}

void hsm_token_describe(const hsm_ctx *ctx, hsm_token_info *out)
{
	*out = ctx->info;
}

/* ---- selecting the token ---- */

static int str_eq(const char *have, const char *want)
{
	return strcmp(have ? have : "", want) == 0;
}

/* Blank-padded CK_UTF8CHAR field without its padding (what libp11 does for
 * the token fields; needed here for CK_INFO). */
static void unpad(const CK_UTF8CHAR *in, size_t len, char *out)
{
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\0'))
		len--;
	memcpy(out, in, len);
	out[len] = '\0';
}

static int token_matches(const hsm_uri *u, const PKCS11_SLOT *slot, unsigned long slot_id,
			 const CK_INFO *lib)
{
	const PKCS11_TOKEN *t = slot->token;
	char s[65];

	if (t == NULL)
		return 0;
	if ((u->has & HSM_URI_HAS_TOKEN) && !str_eq(t->label, u->token))
		return 0;
	if ((u->has & HSM_URI_HAS_MANUFACTURER) && !str_eq(t->manufacturer, u->manufacturer))
		return 0;
	if ((u->has & HSM_URI_HAS_MODEL) && !str_eq(t->model, u->model))
		return 0;
	if ((u->has & HSM_URI_HAS_SERIAL) && !str_eq(t->serialnr, u->serial))
		return 0;
	if ((u->has & HSM_URI_HAS_SLOT_ID) && slot_id != u->slot_id)
		return 0;
	if ((u->has & HSM_URI_HAS_SLOT_DESCRIPTION) && !str_eq(slot->description, u->slot_description))
		return 0;
	if ((u->has & HSM_URI_HAS_SLOT_MANUFACTURER) &&
	    !str_eq(slot->manufacturer, u->slot_manufacturer))
		return 0;
	if (u->has & HSM_URI_HAS_LIB_MANUFACTURER) {
		unpad(lib->manufacturerID, sizeof(lib->manufacturerID), s);
		if (!str_eq(s, u->lib_manufacturer))
			return 0;
	}
	if (u->has & HSM_URI_HAS_LIB_DESCRIPTION) {
		unpad(lib->libraryDescription, sizeof(lib->libraryDescription), s);
		if (!str_eq(s, u->lib_description))
			return 0;
	}
	if ((u->has & HSM_URI_HAS_LIB_VERSION) &&
	    (lib->libraryVersion.major != u->lib_ver_major ||
	     lib->libraryVersion.minor != u->lib_ver_minor))
		return 0;
	return 1;
}

/* The flags that forbid a login: checked before the PIN is read and again
 * right before C_Login, so that no attempt is ever spent on a locked PIN
 * or the last try. */
static eac_err check_flags(hsm_ctx *ctx, CK_TOKEN_INFO *ti)
{
	const char *l = ctx->info.label;
	CK_RV rv = ctx->f->C_GetTokenInfo(ctx->slot, ti);

	if (rv != CKR_OK)
		return hsm_ckr_fail(rv, l, "reading the token's state");
	if (!(ti->flags & CKF_TOKEN_INITIALIZED))
		return eac_fail(EAC_ERR_TOKEN, "token %s: not initialised (no login attempted)", l);
	if (ti->flags & CKF_USER_PIN_LOCKED)
		return eac_fail(EAC_ERR_PIN_LOCKED,
				"token %s: user PIN locked; the security officer must unlock it (no login attempted)",
				l);
	if (ti->flags & CKF_USER_PIN_FINAL_TRY)
		return eac_fail(EAC_ERR_PIN_FINAL_TRY,
				"token %s: the user PIN has one try left; refusing to spend it (no login attempted; log in once by hand with the right PIN to reset the counter)",
				l);
	if (!(ti->flags & CKF_USER_PIN_INITIALIZED))
		return eac_fail(EAC_ERR_TOKEN, "token %s: no user PIN set (no login attempted)", l);
	return EAC_OK;
}

static eac_err load_module(hsm_ctx *ctx, const char *module_path)
{
	struct stat st;
	CK_C_GetFunctionList gfl;
	CK_INFO info;
	CK_RV rv;

	if (stat(module_path, &st) != 0)
		return eac_fail(EAC_ERR_TOKEN_ABSENT, "PKCS#11 module %s: %s", module_path,
				strerror(errno));
	/*
	 * Our own handle first: dlopen()'s error goes into our one-line
	 * message (libp11 would print it on stderr), and it is the handle of
	 * the instance libp11 then initialises — dlopen() of a file already
	 * loaded returns the same, reference-counted handle.
	 */
	if ((ctx->dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *why = dlerror();
		return eac_fail(EAC_ERR_TOKEN_ABSENT, "PKCS#11 module %s cannot be loaded: %s",
				module_path, why ? why : "dlopen failed");
	}
	if ((gfl = (CK_C_GetFunctionList)dlsym(ctx->dl, "C_GetFunctionList")) == NULL)
		return eac_fail(EAC_ERR_TOKEN_ABSENT,
				"PKCS#11 module %s: no C_GetFunctionList; not a PKCS#11 module",
				module_path);
	if ((ctx->p11 = PKCS11_CTX_new()) == NULL)
		return eac_fail(EAC_ERR_NOMEM, "out of memory");
	ERR_clear_error();
	if (PKCS11_CTX_load(ctx->p11, module_path) != 0) {
		rv = hsm_ckr_from_libp11();
		PKCS11_CTX_free(ctx->p11);
		ctx->p11 = NULL;
		if (rv != CKR_OK)
			return eac_fail(hsm_ckr_code(rv) == EAC_ERR_TOKEN ? EAC_ERR_TOKEN_ABSENT
									: hsm_ckr_code(rv),
					"PKCS#11 module %s: C_Initialize failed: %s (%s)", module_path,
					hsm_ckr_phrase(rv),
					hsm_ckr_name(rv) ? hsm_ckr_name(rv) : "unknown CKR");
		return eac_fail(EAC_ERR_TOKEN_ABSENT, "PKCS#11 module %s cannot be loaded",
				module_path);
	}
	ctx->loaded = 1;
	if ((rv = gfl(&ctx->f)) != CKR_OK || ctx->f == NULL) {
		ctx->f = NULL;
		return eac_fail(EAC_ERR_TOKEN_ABSENT, "PKCS#11 module %s: C_GetFunctionList failed",
				module_path);
	}
	/* without a C_Initialize of our own: success proves this function
	 * list is the instance libp11 initialised */
	if ((rv = ctx->f->C_GetInfo(&info)) != CKR_OK)
		return eac_fail(EAC_ERR_INTERNAL,
				"PKCS#11 module %s: its function list is not the instance libp11 initialised (C_GetInfo: %s)",
				module_path, hsm_ckr_name(rv) ? hsm_ckr_name(rv) : "?");
	ERR_clear_error();
	if (PKCS11_enumerate_slots(ctx->p11, &ctx->slots, &ctx->nslots) != 0) {
		ctx->slots = NULL;
		ctx->nslots = 0;
		rv = hsm_ckr_from_libp11();
		if (rv == CKR_OK)
			rv = CKR_GENERAL_ERROR;
		return eac_fail(hsm_ckr_code(rv), "PKCS#11 module %s: listing the slots failed: %s (%s)",
				module_path, hsm_ckr_phrase(rv),
				hsm_ckr_name(rv) ? hsm_ckr_name(rv) : "unknown CKR");
	}
	return EAC_OK;
}

static eac_err select_token(hsm_ctx *ctx, const hsm_uri *u, const char *uri,
			    const char *module_path)
{
	CK_INFO lib;
	CK_RV rv;
	PKCS11_SLOT *found = NULL;
	unsigned nfound = 0;
	char present[256] = "";

	if ((rv = ctx->f->C_GetInfo(&lib)) != CKR_OK)
		return eac_fail(hsm_ckr_code(rv), "PKCS#11 module %s: C_GetInfo failed: %s",
				module_path, hsm_ckr_phrase(rv));
	for (unsigned i = 0; i < ctx->nslots; i++) {
		PKCS11_SLOT *sl = &ctx->slots[i];
		if (sl->token == NULL)
			continue;
		if (sl->token->initialized && sl->token->label && sl->token->label[0] &&
		    strlen(present) + strlen(sl->token->label ? sl->token->label : "") + 4 <
		    sizeof(present)) {
			if (present[0] != '\0')
				strcat(present, ", ");
			strcat(present, sl->token->label ? sl->token->label : "");
		}
		if (token_matches(u, sl, PKCS11_get_slotid_from_slot(sl), &lib)) {
			found = sl;
			nfound++;
		}
	}
	if (nfound == 0)
		return eac_fail(EAC_ERR_TOKEN_ABSENT,
				"no token matching %s in %s (tokens present: %s)", uri, module_path,
				present[0] ? present : "none");
	if (nfound > 1)
		return eac_fail(EAC_ERR_CONFIG,
				"%u tokens match %s; add serial= (or slot-id=) to the URI to name one",
				nfound, uri);
	const PKCS11_TOKEN *t = found->token;
	ctx->slot = PKCS11_get_slotid_from_slot(found);
	snprintf(ctx->info.label, sizeof(ctx->info.label), "%s", t->label ? t->label : "");
	snprintf(ctx->info.manufacturer, sizeof(ctx->info.manufacturer), "%s",
		 t->manufacturer ? t->manufacturer : "");
	snprintf(ctx->info.model, sizeof(ctx->info.model), "%s", t->model ? t->model : "");
	snprintf(ctx->info.serial, sizeof(ctx->info.serial), "%s", t->serialnr ? t->serialnr : "");
	ctx->info.slot_id = ctx->slot;
	snprintf(ctx->info.module, sizeof(ctx->info.module), "%s", module_path);
	return EAC_OK;
}

static eac_err fetch_digests(hsm_ctx *ctx)
{
	static const char *const names[HSM_MD__COUNT] = { "SHA1", "SHA224", "SHA256", "SHA384",
							  "SHA512" };
	for (int i = 0; i < HSM_MD__COUNT; i++)
		if ((ctx->md[i] = EVP_MD_fetch(NULL, names[i], NULL)) == NULL)
			return eac_fail(EAC_ERR_INTERNAL, "OpenSSL has no %s", names[i]);
	return EAC_OK;
}

static eac_err login(hsm_ctx *ctx, const hsm_pin_source *src)
{
	eac_err r = EAC_ERR_INTERNAL;
	const char *l = ctx->info.label;
	char pin[HSM_PIN_MAX + 1];
	size_t pinlen = 0;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	/* first check: do not even ask for a PIN the token will not take */
	if ((r = check_flags(ctx, &ti)) != EAC_OK)
		return r;
	if ((r = hsm_pin_read(src, l, pin, &pinlen)) != EAC_OK)
		return r;
	/* second check: the state may have changed while the officer typed */
	if ((r = check_flags(ctx, &ti)) != EAC_OK)
		goto out;
	/* a PIN the token cannot accept is refused here, costing no try */
	if (ti.ulMaxPinLen != 0 && ti.ulMaxPinLen != CK_UNAVAILABLE_INFORMATION &&
	    ti.ulMinPinLen <= ti.ulMaxPinLen &&
	    (pinlen < ti.ulMinPinLen || pinlen > ti.ulMaxPinLen)) {
		r = eac_fail(EAC_ERR_PIN_INCORRECT,
			     "token %s: wrong PIN: the token takes %lu to %lu characters (no login attempted)",
			     l, (unsigned long)ti.ulMinPinLen, (unsigned long)ti.ulMaxPinLen);
		goto out;
	}
	rv = ctx->f->C_OpenSession(ctx->slot, CKF_SERIAL_SESSION, NULL, NULL, &ctx->login_session);
	if (rv != CKR_OK) {
		ctx->login_session = CK_INVALID_HANDLE;
		r = hsm_ckr_fail(rv, l, "opening a session");
		goto out;
	}
	/* the one login attempt of this context */
	rv = ctx->f->C_Login(ctx->login_session, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)pinlen);
	hsm_pin_wipe(pin);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		r = hsm_ckr_fail(rv, l, NULL);
		/* tell the officer what the next wrong PIN would do */
		if (r == EAC_ERR_PIN_INCORRECT && ctx->f->C_GetTokenInfo(ctx->slot, &ti) == CKR_OK) {
			if (ti.flags & CKF_USER_PIN_LOCKED)
				r = eac_fail(EAC_ERR_PIN_LOCKED,
					     "token %s: wrong PIN (CKR_PIN_INCORRECT); the user PIN is now locked",
					     l);
			else if (ti.flags & CKF_USER_PIN_FINAL_TRY)
				r = eac_fail(EAC_ERR_PIN_INCORRECT,
					     "token %s: wrong PIN (CKR_PIN_INCORRECT); one try left before the PIN locks",
					     l);
		}
		goto out;
	}
	ctx->logged_in = 1;
	r = EAC_OK;
out:
	hsm_pin_wipe(pin);
	return r;
}

eac_err hsm_open(const char *module_path, const char *token_uri, const hsm_pin_source *pin,
		 hsm_ctx **out)
{
	eac_err r = EAC_ERR_INTERNAL;
	hsm_ctx *ctx = NULL;
	CK_TOKEN_INFO ti;
	hsm_uri u;

	if (module_path == NULL || token_uri == NULL || pin == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "hsm_open: module, token URI and PIN source required");
	if ((r = hsm_uri_parse(token_uri, &u)) != EAC_OK)
		return r;
	if (u.has & HSM_URI_OBJECT_ATTRS)
		return eac_fail(EAC_ERR_CONFIG,
				"token URI %s names an object; the token URI selects only the token",
				token_uri);
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return eac_fail(EAC_ERR_NOMEM, "out of memory");
	atomic_init(&ctx->refs, 1);
	ctx->login_session = CK_INVALID_HANDLE;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->cond, NULL);

	if ((r = load_module(ctx, module_path)) != EAC_OK && r != EAC_ERR_TOKEN)
		goto out;
	/* SoftHSM rereads its token directory on C_GetSlotList and, while
	 * another process rewrites a token file, may briefly report a general
	 * error or miss that token: look again a few times before saying the
	 * token is absent (a real absence persists) */
	for (int attempt = 0;; attempt++) {
		if (r == EAC_OK && (r = select_token(ctx, &u, token_uri, module_path)) == EAC_OK)
			break;
		if ((r != EAC_ERR_TOKEN && r != EAC_ERR_TOKEN_ABSENT) || attempt == 4 || !ctx->loaded ||
		    ctx->f == NULL)
			goto out;
		struct timespec pause = { 0, 50000000L * (attempt + 1) };
		nanosleep(&pause, NULL);
		if (ctx->slots != NULL)
			PKCS11_release_all_slots(ctx->p11, ctx->slots, ctx->nslots);
		ctx->slots = NULL;
		ctx->nslots = 0;
		ERR_clear_error();
		if (PKCS11_enumerate_slots(ctx->p11, &ctx->slots, &ctx->nslots) != 0) {
			ctx->slots = NULL;
			ctx->nslots = 0;
			r = eac_fail(EAC_ERR_TOKEN, "PKCS#11 module %s: listing the slots failed",
				     module_path);
		} else {
			r = EAC_OK;
		}
	}
	if ((r = fetch_digests(ctx)) != EAC_OK)
		goto out;
	if ((r = check_flags(ctx, &ti)) != EAC_OK)
		goto out;
	/* one session holds the login, one is kept free for a key
	 * generation's read/write session; the pool may use the rest */
	ctx->max_open = HSM_SESSIONS_MAX;
	if (ti.ulMaxSessionCount != CK_EFFECTIVELY_INFINITE &&
	    ti.ulMaxSessionCount != CK_UNAVAILABLE_INFORMATION) {
		if (ti.ulMaxSessionCount < 2) {
			r = eac_fail(EAC_ERR_TOKEN, "token %s allows only %lu session(s); need 2",
				     ctx->info.label, (unsigned long)ti.ulMaxSessionCount);
			goto out;
		}
		CK_ULONG spare = ti.ulMaxSessionCount >= 3 ? 2 : 1;
		if (ti.ulMaxSessionCount - spare < ctx->max_open)
			ctx->max_open = (unsigned)(ti.ulMaxSessionCount - spare);
	}
	if ((r = login(ctx, pin)) != EAC_OK)
		goto out;
	*out = ctx;
	ctx = NULL;
	r = EAC_OK;
out:
	ctx_destroy(ctx);
	return r;
}
