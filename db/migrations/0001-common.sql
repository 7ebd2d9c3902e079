-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 1, the part both engines share. db/migrate.c runs it as the
-- owner role, statement by statement, in one transaction under an advisory
-- lock, then the engine's own part (0001-cvca.sql or 0001-dv.sql). The
-- design — what is insert-only, which trigger guards what, the audit chain's
-- canonical form — is explained in docs/DATABASE.md.
--
-- Error codes raised by the triggers (db/conn.c maps them to eac_err):
--   EA001  change of an insert-only record            -> EAC_ERR_DB
--   EA002  object in the wrong state for this          -> EAC_ERR_STATE
--   EA003  record inconsistent with what it refers to  -> EAC_ERR_DB_CONFLICT
--   EA004  malformed certificate bytes                 -> EAC_ERR_MALFORMED
--   EA005  refused by the certificate policy (CP-...)  -> EAC_ERR_POLICY
--   EA006  certificate body differs from its intent    -> EAC_ERR_DB_CONFLICT

DO $$
BEGIN
	IF current_setting('server_version_num')::int < 130000 THEN
		RAISE EXCEPTION 'PostgreSQL 13 or newer is required (this server is %)',
			current_setting('server_version');
	END IF;
	-- the audit chain hashes the UTF-8 bytes of text columns
	IF (SELECT pg_encoding_to_char(encoding) FROM pg_database
	    WHERE datname = current_database()) <> 'UTF8' THEN
		RAISE EXCEPTION 'database % must use encoding UTF8', current_database();
	END IF;
	IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('eac_service', 'eac_auditor')) <> 2 THEN
		RAISE EXCEPTION 'roles eac_service and eac_auditor must exist before the schema is created (see docs/DATABASE.md)';
	END IF;
END $$;

CREATE SCHEMA eac;
REVOKE ALL ON SCHEMA eac FROM PUBLIC;
GRANT USAGE ON SCHEMA eac TO eac_service, eac_auditor;

-- ---------------------------------------------------------------------------
-- schema bookkeeping

CREATE TABLE eac.meta (
	id int PRIMARY KEY DEFAULT 1 CONSTRAINT meta_one_row_ck CHECK (id = 1),
	flavour text NOT NULL CONSTRAINT meta_flavour_ck CHECK (flavour IN ('cvca', 'dv')),
	version int NOT NULL CONSTRAINT meta_version_ck CHECK (version >= 1),
	created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE eac.schema_migrations (
	version int NOT NULL,
	part text NOT NULL CONSTRAINT schema_migrations_part_ck CHECK (part IN ('common', 'cvca', 'dv')),
	name text NOT NULL,
	sha256 bytea NOT NULL CONSTRAINT schema_migrations_sha256_ck CHECK (octet_length(sha256) = 32),
	applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	applied_by text NOT NULL DEFAULT session_user,
	PRIMARY KEY (version, part)
);

-- ---------------------------------------------------------------------------
-- helpers
--
-- The pure helpers below carry no SET search_path of their own: only the
-- owner may call them (EXECUTE is revoked from PUBLIC at the end), they are
-- called from the SECURITY DEFINER trigger functions, which pin
-- search_path = pg_catalog, pg_temp, and a SET clause would stop the SQL ones
-- from being inlined (the audit canonical form costs 2 us inlined, 80 us not).

-- Who acts: set per connection by db_set_actor(); the login role otherwise.
CREATE FUNCTION eac.actor() RETURNS text LANGUAGE sql STABLE
AS $$
	SELECT coalesce(nullif(current_setting('eac.actor', true), ''), session_user::text)
$$;

-- Why: set for one transaction by the C side for status changes.
CREATE FUNCTION eac.reason() RETURNS text LANGUAGE sql STABLE
AS $$
	SELECT nullif(current_setting('eac.reason', true), '')
$$;

-- The guard of every insert-only table: UPDATE, DELETE and TRUNCATE refused,
-- for the owner too (only a superuser can switch triggers off).
CREATE FUNCTION eac.forbid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'EA001',
		MESSAGE = format('%s on %s is forbidden: the record is insert-only', TG_OP, TG_TABLE_NAME);
END $$;

-- One BER-TLV header at byte offset p (0-based) of b: a tag of 1 or 2
-- octets, a definite length in the minimal number of octets (1..3,
-- TR-03110-3 D.2), the value's offset and length. Lengths that run past the
-- end are refused. See ../shared/spec/cv-format.md §1.
CREATE FUNCTION eac.tlv(b bytea, p int, OUT tag int, OUT voff int, OUT vlen int)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	n int := octet_length(b);
	l int;
BEGIN
	IF p < 0 OR p + 2 > n THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated TLV at offset %s', p);
	END IF;
	tag := get_byte(b, p);
	p := p + 1;
	IF tag & 31 = 31 THEN
		IF get_byte(b, p) & 128 <> 0 THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('tag longer than 2 octets at offset %s', p - 1);
		END IF;
		tag := tag * 256 + get_byte(b, p);
		p := p + 1;
	END IF;
	IF p >= n THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated TLV at offset %s', p);
	END IF;
	l := get_byte(b, p);
	p := p + 1;
	IF l = 129 THEN
		IF p + 1 > n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated length at offset %s', p);
		END IF;
		l := get_byte(b, p);
		p := p + 1;
		IF l < 128 THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('non-minimal length at offset %s', p - 2);
		END IF;
	ELSIF l = 130 THEN
		IF p + 2 > n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated length at offset %s', p);
		END IF;
		l := get_byte(b, p) * 256 + get_byte(b, p + 1);
		p := p + 2;
		IF l < 256 THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('non-minimal length at offset %s', p - 3);
		END IF;
	ELSIF l > 127 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('unsupported length form at offset %s', p - 1);
	END IF;
	IF p + l > n THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('length %s at offset %s runs past the end', l, p);
	END IF;
	voff := p;
	vlen := l;
END $$;

-- The certificate body of a CV certificate: DER is exactly
-- 7F21 { 7F4E body, 5F37 signature } (TR-03110-3 C.1) and nothing else;
-- returns the whole 7F4E TLV, the bytes that were signed.
CREATE FUNCTION eac.cv_cert_body(der bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	c record;
	b record;
	s record;
BEGIN
	SELECT * INTO c FROM eac.tlv(der, 0);
	IF c.tag <> x'7F21'::int THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'not a CV certificate (tag 7F21 expected)';
	END IF;
	IF c.voff + c.vlen <> octet_length(der) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'trailing bytes after the CV certificate';
	END IF;
	SELECT * INTO b FROM eac.tlv(der, c.voff);
	IF b.tag <> x'7F4E'::int THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'CV certificate: body 7F4E expected first';
	END IF;
	SELECT * INTO s FROM eac.tlv(der, b.voff + b.vlen);
	IF s.tag <> x'5F37'::int OR s.vlen = 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'CV certificate: signature 5F37 expected after the body';
	END IF;
	IF s.voff + s.vlen <> octet_length(der) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'CV certificate: data after the signature';
	END IF;
	RETURN substring(der FROM c.voff + 1 FOR b.voff + b.vlen - c.voff);
END $$;

-- Unpacked-BCD YYMMDD date (TR-03110-3 D.2.1.3) at offset p of b.
CREATE FUNCTION eac.cv_date(b bytea, p int, l int) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	d int[];
BEGIN
	IF l <> 6 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'date is not 6 octets';
	END IF;
	FOR i IN 0..5 LOOP
		IF get_byte(b, p + i) > 9 THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'date digit is not BCD';
		END IF;
		d[i + 1] := get_byte(b, p + i);
	END LOOP;
	IF d[3] * 10 + d[4] NOT BETWEEN 1 AND 12 OR d[5] * 10 + d[6] NOT BETWEEN 1 AND 31 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'date out of range';
	END IF;
	RETURN make_date(2000 + d[1] * 10 + d[2], d[3] * 10 + d[4], d[5] * 10 + d[6]);
END $$;

-- The fields of a certificate body 7F4E that the record repeats, in the
-- fixed order of TR-03110-3 C.1 (CPI, CAR, public key, CHR, CHAT, effective,
-- expiry, optional extensions). References are ISO 8859-1.
CREATE FUNCTION eac.cv_body_fields(body bytea, OUT car text, OUT chr text, OUT chat bytea,
				   OUT effective date, OUT expiry date)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	t record;
	f record;
	p int;
	i int := 0;
	want int[] := ARRAY[x'5F29'::int, x'42'::int, x'7F49'::int, x'5F20'::int,
			    x'7F4C'::int, x'5F25'::int, x'5F24'::int, x'65'::int];
BEGIN
	SELECT * INTO t FROM eac.tlv(body, 0);
	IF t.tag <> x'7F4E'::int OR t.voff + t.vlen <> octet_length(body) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'not exactly one certificate body 7F4E';
	END IF;
	p := t.voff;
	WHILE p < octet_length(body) LOOP
		SELECT * INTO f FROM eac.tlv(body, p);
		i := i + 1;
		IF i > 8 OR f.tag <> want[i] THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004',
				MESSAGE = format('certificate body: unexpected tag %s at offset %s', to_hex(f.tag), p);
		END IF;
		CASE f.tag
		WHEN x'42'::int THEN car := convert_from(substring(body FROM f.voff + 1 FOR f.vlen), 'LATIN1');
		WHEN x'5F20'::int THEN chr := convert_from(substring(body FROM f.voff + 1 FOR f.vlen), 'LATIN1');
		WHEN x'7F4C'::int THEN chat := substring(body FROM p + 1 FOR f.voff + f.vlen - p);
		WHEN x'5F25'::int THEN effective := eac.cv_date(body, f.voff, f.vlen);
		WHEN x'5F24'::int THEN expiry := eac.cv_date(body, f.voff, f.vlen);
		ELSE NULL;
		END CASE;
		p := f.voff + f.vlen;
	END LOOP;
	IF i < 7 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'certificate body: mandatory field missing';
	END IF;
END $$;

-- ---------------------------------------------------------------------------
-- the audit log: one hash chain per database

CREATE TABLE eac.audit_events (
	seq bigint PRIMARY KEY,
	at timestamptz NOT NULL,
	db_user text NOT NULL,
	actor text NOT NULL CONSTRAINT audit_actor_ck CHECK (actor <> '' AND length(actor) <= 200),
	action text NOT NULL CONSTRAINT audit_action_ck CHECK (action ~ '^[a-z][a-z0-9_.-]{0,63}$'),
	object text NOT NULL CONSTRAINT audit_object_ck CHECK (length(object) <= 200),
	-- the exact JSON text given (not jsonb: its text form could change)
	details text NOT NULL CONSTRAINT audit_details_ck
		CHECK (octet_length(details) <= 65536 AND json_typeof(details::json) = 'object'),
	prev_hash bytea NOT NULL CONSTRAINT audit_prev_hash_ck CHECK (octet_length(prev_hash) = 32),
	hash bytea NOT NULL CONSTRAINT audit_hash_ck CHECK (octet_length(hash) = 32)
);

-- The head of the chain: one row, updated only by eac.audit_chain() under a
-- row lock, so that appends are serialised and seq has no gaps.
CREATE TABLE eac.audit_head (
	id int PRIMARY KEY DEFAULT 1 CONSTRAINT audit_head_one_row_ck CHECK (id = 1),
	seq bigint NOT NULL,
	hash bytea NOT NULL CONSTRAINT audit_head_hash_ck CHECK (octet_length(hash) = 32)
);
INSERT INTO eac.audit_head (id, seq, hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- The canonical content of an audit row (version 1), hashed as
--   hash = SHA-256(prev_hash || canonical)
-- with prev_hash 32 zero octets for seq 1. Text fields are length-prefixed
-- (UTF-8 octets) so no two rows share a serialisation. db/audit.c
-- recomputes it independently; docs/DATABASE.md specifies it.
CREATE FUNCTION eac.audit_field(name text, v text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT name || ':' || octet_length(v)::text || ':' || v || E'\n'
$$;

CREATE FUNCTION eac.audit_canonical(p_seq bigint, p_at timestamptz, p_db_user text, p_actor text,
				    p_action text, p_object text, p_details text) RETURNS bytea
LANGUAGE sql STABLE STRICT AS $$
	SELECT convert_to('EAC-AUDIT-1' || E'\n'
		|| 'seq:' || p_seq::text || E'\n'
		|| 'at:' || to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n'
		|| eac.audit_field('db_user', p_db_user)
		|| eac.audit_field('actor', p_actor)
		|| eac.audit_field('action', p_action)
		|| eac.audit_field('object', p_object)
		|| eac.audit_field('details', p_details), 'UTF8')
$$;

-- Appends are numbered, timed and chained here, whatever the inserter
-- supplied: seq, at, db_user, prev_hash and hash are the database's.
CREATE FUNCTION eac.audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h record;
BEGIN
	SELECT seq, hash INTO STRICT h FROM eac.audit_head WHERE id = 1 FOR UPDATE;
	NEW.seq := h.seq + 1;
	NEW.prev_hash := h.hash;
	NEW.at := clock_timestamp();
	NEW.db_user := session_user;
	NEW.hash := sha256(h.hash || eac.audit_canonical(NEW.seq, NEW.at, NEW.db_user, NEW.actor,
							 NEW.action, NEW.object, NEW.details));
	UPDATE eac.audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
	RETURN NEW;
END $$;

CREATE TRIGGER audit_events_chain BEFORE INSERT ON eac.audit_events
	FOR EACH ROW EXECUTE FUNCTION eac.audit_chain();
CREATE TRIGGER audit_events_forbid BEFORE UPDATE OR DELETE ON eac.audit_events
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER audit_events_forbid_truncate BEFORE TRUNCATE ON eac.audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- the head moves one step at a time and never goes away
CREATE FUNCTION eac.audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = 'the audit chain head only advances by one, by an append';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER audit_head_guard BEFORE UPDATE ON eac.audit_head
	FOR EACH ROW EXECUTE FUNCTION eac.audit_head_guard();
CREATE TRIGGER audit_head_forbid BEFORE DELETE ON eac.audit_head
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER audit_head_forbid_truncate BEFORE TRUNCATE ON eac.audit_head
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- Append one event as the current actor; used by the triggers below so that
-- no audited change can happen without its event (same transaction).
CREATE FUNCTION eac.audit_append(p_action text, p_object text, p_details text,
				 OUT seq bigint, OUT hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO eac.audit_events (actor, action, object, details)
	VALUES (eac.actor(), p_action, p_object, p_details)
	RETURNING audit_events.seq, audit_events.hash INTO seq, hash;
END $$;

-- Append the events of the rows one statement changed (statement-level
-- triggers over transition tables, so that a batch of N rows costs a few
-- events, not N). One row: exactly the event of that row alone (object
-- NOUN:ID, details its fields). Several: one event per 100 rows, object
-- NOUN:FIRST..LAST, details {"count": n, "ids": [...], "items": [...]}, each
-- item the details the row's own event would have had. Returns the anchor
-- (seq, hash) of the event that names each id, for certificate anchors.
CREATE FUNCTION eac.audit_rows(p_action text, p_noun text, p_ids bigint[], p_items json[])
RETURNS TABLE (id bigint, seq bigint, hash bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n int := coalesce(array_length(p_ids, 1), 0);
	a int;
	b int;
	ev record;
BEGIN
	IF n = 1 THEN
		SELECT * INTO ev FROM eac.audit_append(p_action, p_noun || ':' || p_ids[1], p_items[1]::text);
		RETURN QUERY SELECT p_ids[1], ev.seq, ev.hash;
		RETURN;
	END IF;
	a := 1;
	WHILE a <= n LOOP
		b := least(a + 99, n);
		SELECT * INTO ev FROM eac.audit_append(p_action,
			p_noun || ':' || p_ids[a] || '..' || p_ids[b],
			json_build_object('count', b - a + 1, 'ids', to_json(p_ids[a:b]),
				'items', to_json(p_items[a:b]))::text);
		RETURN QUERY SELECT x, ev.seq, ev.hash FROM unnest(p_ids[a:b]) AS x;
		a := b + 1;
	END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- registries: authorities and keys

CREATE TABLE eac.authorities (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL, -- values per engine: 0001-cvca.sql / 0001-dv.sql
	country text NOT NULL CONSTRAINT authorities_country_ck CHECK (country ~ '^[A-Z]{2}$'),
	mnemonic text NOT NULL CONSTRAINT authorities_mnemonic_ck
		CHECK (mnemonic ~ '^[ -~\u00a0-\u00ff]{0,9}$'),
	name text NOT NULL CONSTRAINT authorities_name_ck CHECK (name <> '' AND length(name) <= 200),
	organisations text NOT NULL DEFAULT '[]' CONSTRAINT authorities_organisations_ck
		CHECK (octet_length(organisations) <= 4096 AND json_typeof(organisations::json) = 'array'),
	domestic boolean NOT NULL,
	conformity_expiry date,
	status text NOT NULL DEFAULT 'active'
		CONSTRAINT authorities_status_ck CHECK (status IN ('active', 'suspended', 'retired')),
	created_at timestamptz NOT NULL,
	status_changed_at timestamptz,
	CONSTRAINT authorities_name_uq UNIQUE (country, mnemonic),
	CONSTRAINT authorities_conformity_ck CHECK (conformity_expiry IS NULL OR kind IN ('dv', 'own_dv'))
);
-- one CVCA per country (CP-1.3a) and one DV per DV engine: this database's own
CREATE UNIQUE INDEX authorities_one_own_uq ON eac.authorities ((true))
	WHERE kind IN ('own_cvca', 'own_dv');

CREATE FUNCTION eac.authorities_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n eac.authorities;
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.status <> 'active' THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002', MESSAGE = 'an authority is registered active';
		END IF;
		NEW.status_changed_at := NULL;
		RETURN NEW;
	END IF;
	n := NEW;
	n.status := OLD.status;
	n.status_changed_at := OLD.status_changed_at;
	n.name := OLD.name;
	n.organisations := OLD.organisations;
	n.conformity_expiry := OLD.conformity_expiry;
	IF ROW(n.*) IS DISTINCT FROM ROW(OLD.*) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = format('authority %s: kind, country, mnemonic and domestic flag never change', OLD.id);
	END IF;
	IF NEW.status <> OLD.status AND NOT (
		(OLD.status = 'active' AND NEW.status IN ('suspended', 'retired')) OR
		(OLD.status = 'suspended' AND NEW.status IN ('active', 'retired'))) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('authority %s: status %s cannot become %s', OLD.id, OLD.status, NEW.status);
	END IF;
	RETURN NEW;
END $$;

CREATE FUNCTION eac.authorities_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM eac.audit_append('authority.register', 'authority:' || NEW.id,
			json_build_object('kind', NEW.kind, 'country', NEW.country, 'mnemonic', NEW.mnemonic,
				'name', NEW.name, 'organisations', NEW.organisations::json,
				'domestic', NEW.domestic, 'conformity_expiry', NEW.conformity_expiry)::text);
	ELSE
		PERFORM eac.audit_append('authority.change', 'authority:' || NEW.id,
			json_build_object('status', json_build_array(OLD.status, NEW.status),
				'name', json_build_array(OLD.name, NEW.name),
				'organisations', json_build_array(OLD.organisations::json, NEW.organisations::json),
				'conformity_expiry', json_build_array(OLD.conformity_expiry, NEW.conformity_expiry),
				'reason', eac.reason())::text);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER authorities_guard BEFORE INSERT OR UPDATE ON eac.authorities
	FOR EACH ROW EXECUTE FUNCTION eac.authorities_guard();
CREATE TRIGGER authorities_audit AFTER INSERT OR UPDATE ON eac.authorities
	FOR EACH ROW EXECUTE FUNCTION eac.authorities_audit();
CREATE TRIGGER authorities_forbid BEFORE DELETE ON eac.authorities
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER authorities_forbid_truncate BEFORE TRUNCATE ON eac.authorities
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

CREATE TABLE eac.keys (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	authority_id bigint REFERENCES eac.authorities (id),
	-- own signing keys only; never a PIN (pin-value) in it
	pkcs11_uri text CONSTRAINT keys_pkcs11_uri_ck CHECK (pkcs11_uri IS NULL OR (
		pkcs11_uri LIKE 'pkcs11:%' AND length(pkcs11_uri) <= 1000
		AND position('pin-value' IN lower(pkcs11_uri)) = 0)),
	label text CONSTRAINT keys_label_ck CHECK (label IS NULL OR length(label) BETWEEN 1 AND 64),
	pubkey_hash bytea NOT NULL CONSTRAINT keys_pubkey_hash_ck CHECK (octet_length(pubkey_hash) = 32),
	algorithm text NOT NULL CONSTRAINT keys_algorithm_ck CHECK (algorithm <> '' AND length(algorithm) <= 40),
	curve text CONSTRAINT keys_curve_ck CHECK (curve IS NULL OR (curve <> '' AND length(curve) <= 40)),
	state text NOT NULL DEFAULT 'pending'
		CONSTRAINT keys_state_ck CHECK (state IN ('pending', 'active', 'retired', 'compromised')),
	created_at timestamptz NOT NULL,
	state_changed_at timestamptz,
	-- a public key belongs to one holder
	CONSTRAINT keys_pubkey_hash_uq UNIQUE (pubkey_hash)
);
-- at most one active signing key per own authority
CREATE UNIQUE INDEX keys_one_active_uq ON eac.keys (authority_id)
	WHERE state = 'active' AND pkcs11_uri IS NOT NULL;
CREATE INDEX keys_authority_ix ON eac.keys (authority_id);

CREATE FUNCTION eac.keys_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n eac.keys;
	k text;
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.state NOT IN ('pending', 'active') THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002', MESSAGE = 'a key is registered pending or active';
		END IF;
		IF NEW.pkcs11_uri IS NOT NULL THEN
			SELECT kind INTO k FROM eac.authorities WHERE id = NEW.authority_id;
			IF k IS NULL OR k NOT IN ('own_cvca', 'own_dv') THEN
				RAISE EXCEPTION USING ERRCODE = 'EA003',
					MESSAGE = 'a key in our token (PKCS#11 URI) belongs to our own authority';
			END IF;
		END IF;
		NEW.state_changed_at := NULL;
		RETURN NEW;
	END IF;
	n := NEW;
	n.state := OLD.state;
	n.state_changed_at := OLD.state_changed_at;
	IF OLD.label IS NULL THEN
		n.label := NULL;
	END IF;
	IF ROW(n.*) IS DISTINCT FROM ROW(OLD.*) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = format('key %s: only its state (and a label, once) may change', OLD.id);
	END IF;
	-- CP-4.5b: a compromised key is never used again; retired keys stay retired
	IF NEW.state <> OLD.state AND NOT (
		(OLD.state = 'pending' AND NEW.state IN ('active', 'retired', 'compromised')) OR
		(OLD.state = 'active' AND NEW.state IN ('retired', 'compromised')) OR
		(OLD.state = 'retired' AND NEW.state = 'compromised')) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('key %s: state %s cannot become %s (CP-4.5b)', OLD.id, OLD.state, NEW.state);
	END IF;
	RETURN NEW;
END $$;

CREATE FUNCTION eac.keys_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM eac.audit_append('key.register', 'key:' || NEW.id,
			json_build_object('authority', NEW.authority_id, 'pkcs11_uri', NEW.pkcs11_uri,
				'label', NEW.label, 'pubkey_sha256', encode(NEW.pubkey_hash, 'hex'),
				'algorithm', NEW.algorithm, 'curve', NEW.curve, 'state', NEW.state)::text);
	ELSE
		PERFORM eac.audit_append('key.' || CASE WHEN NEW.state <> OLD.state THEN NEW.state ELSE 'label' END,
			'key:' || NEW.id,
			json_build_object('state', json_build_array(OLD.state, NEW.state),
				'label', NEW.label, 'reason', eac.reason())::text);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER keys_guard BEFORE INSERT OR UPDATE ON eac.keys
	FOR EACH ROW EXECUTE FUNCTION eac.keys_guard();
CREATE TRIGGER keys_audit AFTER INSERT OR UPDATE ON eac.keys
	FOR EACH ROW EXECUTE FUNCTION eac.keys_audit();
CREATE TRIGGER keys_forbid BEFORE DELETE ON eac.keys
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER keys_forbid_truncate BEFORE TRUNCATE ON eac.keys
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- ---------------------------------------------------------------------------
-- sequence numbers of our own CHRs (CP-3.1b): per scope (country+mnemonic),
-- allocated under the row lock of INSERT .. ON CONFLICT DO UPDATE, only upward

CREATE TABLE eac.seq_counters (
	scope text PRIMARY KEY CONSTRAINT seq_counters_scope_ck CHECK (scope ~ '^[A-Z]{2}[ -~\u00a0-\u00ff]{0,9}$'),
	last_value int NOT NULL CONSTRAINT seq_counters_range_ck CHECK (last_value BETWEEN 1 AND 99999)
);

CREATE FUNCTION eac.seq_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.scope <> OLD.scope OR NEW.last_value <= OLD.last_value THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = format('sequence %s: numbers only go up, none is reused', OLD.scope);
	END IF;
	RETURN NEW;
END $$;

CREATE FUNCTION eac.seq_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM eac.audit_append('sequence.allocate', 'sequence:' || NEW.scope,
		json_build_object('scope', NEW.scope, 'value', NEW.last_value)::text);
	RETURN NULL;
END $$;

CREATE TRIGGER seq_counters_guard BEFORE UPDATE ON eac.seq_counters
	FOR EACH ROW EXECUTE FUNCTION eac.seq_guard();
CREATE CONSTRAINT TRIGGER seq_counters_audit AFTER INSERT OR UPDATE ON eac.seq_counters
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION eac.seq_audit();
CREATE TRIGGER seq_counters_forbid BEFORE DELETE ON eac.seq_counters
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER seq_counters_forbid_truncate BEFORE TRUNCATE ON eac.seq_counters
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- ---------------------------------------------------------------------------
-- the request queue (CP-4.2.2, CP-5.4.2): received -> validated -> issued,
-- received | validated -> rejected (with the rule)

CREATE TABLE eac.requests (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL, -- per engine
	channel text NOT NULL, -- per engine
	authority_id bigint REFERENCES eac.authorities (id),
	raw bytea NOT NULL CONSTRAINT requests_raw_ck CHECK (octet_length(raw) BETWEEN 1 AND 16384),
	raw_hash bytea NOT NULL CONSTRAINT requests_raw_hash_ck CHECK (raw_hash = sha256(raw)),
	holder_chr text NOT NULL CONSTRAINT requests_holder_chr_ck
		CHECK (holder_chr ~ '^[A-Z]{2}[ -~\u00a0-\u00ff]{0,9}[0-9A-Z]{5}$'),
	outer_car text CONSTRAINT requests_outer_car_ck
		CHECK (outer_car ~ '^[A-Z]{2}[ -~\u00a0-\u00ff]{0,9}[0-9A-Z]{5}$'),
	received_at timestamptz NOT NULL,
	acknowledged_at timestamptz,
	deadline timestamptz NOT NULL,
	state text NOT NULL DEFAULT 'received'
		CONSTRAINT requests_state_ck CHECK (state IN ('received', 'validated', 'issued', 'rejected')),
	rule_id text CONSTRAINT requests_rule_id_ck CHECK (rule_id <> '' AND length(rule_id) <= 64),
	message text CONSTRAINT requests_message_ck CHECK (message <> '' AND length(message) <= 1000),
	decided_by text CONSTRAINT requests_decided_by_ck CHECK (decided_by <> '' AND length(decided_by) <= 200),
	decided_at timestamptz,
	-- a resubmitted request is the same row: the same answer (idempotent)
	CONSTRAINT requests_raw_hash_uq UNIQUE (raw_hash),
	CONSTRAINT requests_deadline_ck CHECK (deadline > received_at),
	CONSTRAINT requests_rejection_ck CHECK ((state = 'rejected') = (rule_id IS NOT NULL AND message IS NOT NULL)),
	CONSTRAINT requests_decision_ck CHECK ((state = 'received') = (decided_at IS NULL))
);
-- the queue: pending requests by deadline (status stays fast with millions of rows)
CREATE INDEX requests_pending_ix ON eac.requests (deadline) WHERE state IN ('received', 'validated');
CREATE INDEX requests_authority_ix ON eac.requests (authority_id);

CREATE FUNCTION eac.requests_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n eac.requests;
	open_intent bigint;
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.state <> 'received' OR NEW.rule_id IS NOT NULL OR NEW.decided_at IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002', MESSAGE = 'a request enters the queue as received';
		END IF;
		RETURN NEW;
	END IF;
	n := NEW;
	n.state := OLD.state;
	n.rule_id := OLD.rule_id;
	n.message := OLD.message;
	n.decided_by := OLD.decided_by;
	n.decided_at := OLD.decided_at;
	IF OLD.acknowledged_at IS NULL THEN
		n.acknowledged_at := NULL;
	END IF;
	IF ROW(n.*) IS DISTINCT FROM ROW(OLD.*) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = format('request %s: what was received never changes; only its state and decision move', OLD.id);
	END IF;
	IF NEW.state = OLD.state THEN
		IF ROW(NEW.rule_id, NEW.message, NEW.decided_by, NEW.decided_at)
		   IS DISTINCT FROM ROW(OLD.rule_id, OLD.message, OLD.decided_by, OLD.decided_at) THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('request %s: a decision is recorded once', OLD.id);
		END IF;
		RETURN NEW;
	END IF;
	IF NOT ((OLD.state = 'received' AND NEW.state IN ('validated', 'rejected')) OR
		(OLD.state = 'validated' AND NEW.state IN ('issued', 'rejected'))) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('request %s: state %s cannot become %s', OLD.id, OLD.state, NEW.state);
	END IF;
	IF NEW.state = 'issued' AND
	   ROW(OLD.decided_by, OLD.decided_at) IS DISTINCT FROM ROW(NEW.decided_by, NEW.decided_at) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002', MESSAGE = format('request %s: a decision is recorded once', OLD.id);
	END IF;
	IF NEW.state = 'issued' AND NOT EXISTS (SELECT 1 FROM eac.certificates WHERE request_id = OLD.id) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('request %s: issued only by recording its certificate', OLD.id);
	END IF;
	IF NEW.state = 'rejected' THEN
		IF NEW.decided_by IS NULL OR NEW.decided_at IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003',
				MESSAGE = format('request %s: a rejection names who decided and when', OLD.id);
		END IF;
		SELECT id INTO open_intent FROM eac.issuances
		WHERE request_id = OLD.id AND abandoned_at IS NULL FOR UPDATE;
		IF FOUND THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('request %s: issuance %s is under way; abandon it before rejecting', OLD.id, open_intent);
		END IF;
	END IF;
	RETURN NEW;
END $$;

CREATE FUNCTION eac.requests_audit_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM eac.audit_rows('request.receive', 'request', array_agg(n.id ORDER BY n.id),
		array_agg(json_build_object('kind', n.kind, 'channel', n.channel, 'authority', n.authority_id,
			'holder_chr', n.holder_chr, 'outer_car', n.outer_car,
			'sha256', encode(n.raw_hash, 'hex'), 'deadline', n.deadline,
			'acknowledged', n.acknowledged_at IS NOT NULL) ORDER BY n.id))
	FROM new_rows n HAVING count(*) > 0;
	RETURN NULL;
END $$;

CREATE FUNCTION eac.requests_audit_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM eac.audit_rows('request.acknowledge', 'request', array_agg(n.id ORDER BY n.id),
		array_agg(json_build_object('at', n.acknowledged_at) ORDER BY n.id))
	FROM new_rows n JOIN old_rows o ON o.id = n.id
	WHERE n.acknowledged_at IS DISTINCT FROM o.acknowledged_at HAVING count(*) > 0;
	PERFORM eac.audit_rows('request.' || CASE n.state WHEN 'validated' THEN 'validate'
			WHEN 'rejected' THEN 'reject' ELSE 'issue' END, 'request', array_agg(n.id ORDER BY n.id),
		array_agg(json_build_object('state', json_build_array(o.state, n.state),
			'rule', n.rule_id, 'message', n.message, 'decided_by', n.decided_by) ORDER BY n.id))
	FROM new_rows n JOIN old_rows o ON o.id = n.id
	WHERE n.state <> o.state GROUP BY n.state;
	RETURN NULL;
END $$;

CREATE TRIGGER requests_guard BEFORE INSERT OR UPDATE ON eac.requests
	FOR EACH ROW EXECUTE FUNCTION eac.requests_guard();
CREATE TRIGGER requests_audit_insert AFTER INSERT ON eac.requests
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.requests_audit_insert();
CREATE TRIGGER requests_audit_update AFTER UPDATE ON eac.requests
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION eac.requests_audit_update();
CREATE TRIGGER requests_forbid BEFORE DELETE ON eac.requests
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER requests_forbid_truncate BEFORE TRUNCATE ON eac.requests
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- ---------------------------------------------------------------------------
-- the issuance protocol: 1. intent (committed before signing) 3. result

CREATE TABLE eac.issuances (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	issuer_id bigint NOT NULL REFERENCES eac.authorities (id),
	signing_key_id bigint NOT NULL REFERENCES eac.keys (id),
	kind text NOT NULL CONSTRAINT issuances_kind_ck CHECK (kind IN ('cvca', 'link', 'dv', 'is')),
	chr text NOT NULL CONSTRAINT issuances_chr_ck
		CHECK (chr ~ '^[A-Z]{2}[ -~\u00a0-\u00ff]{0,9}[0-9A-Z]{5}$'),
	car text NOT NULL CONSTRAINT issuances_car_ck
		CHECK (car ~ '^[A-Z]{2}[ -~\u00a0-\u00ff]{0,9}[0-9A-Z]{5}$'),
	holder_key_hash bytea NOT NULL CONSTRAINT issuances_holder_key_hash_ck CHECK (octet_length(holder_key_hash) = 32),
	request_id bigint REFERENCES eac.requests (id),
	chat bytea NOT NULL,
	effective date NOT NULL,
	expiry date NOT NULL,
	tbs bytea NOT NULL CONSTRAINT issuances_tbs_ck CHECK (octet_length(tbs) BETWEEN 4 AND 8192),
	tbs_hash bytea NOT NULL CONSTRAINT issuances_tbs_hash_ck CHECK (tbs_hash = sha256(tbs)),
	distribute_within interval,
	created_at timestamptz NOT NULL,
	abandoned_at timestamptz,
	abandon_reason text CONSTRAINT issuances_abandon_reason_ck CHECK (abandon_reason <> '' AND length(abandon_reason) <= 1000),
	CONSTRAINT issuances_abandon_ck CHECK ((abandoned_at IS NULL) = (abandon_reason IS NULL)),
	CONSTRAINT issuances_dates_ck CHECK (expiry >= effective),
	CONSTRAINT issuances_self_signed_ck CHECK (kind <> 'cvca' OR car = chr),
	CONSTRAINT issuances_request_ck CHECK ((kind IN ('dv', 'is')) = (request_id IS NOT NULL))
);
-- Over intents not abandoned: a CHR names one key within the issuer
-- (CP-3.1b) — per kind, because a CVCA's new key carries one CHR in two
-- certificates, the link and the self-signed one (TR-03110-3 2.3); a public
-- key is certified once per issuer, no renewal (CP-4.6); a request yields
-- one intent, however many approvals race.
-- (The most selective column leads each index, so that the planner, even
-- with statistics from a much smaller table, never uses one of them for a
-- lookup by issuer alone.)
CREATE UNIQUE INDEX issuances_chr_uq ON eac.issuances (chr, issuer_id, kind) WHERE abandoned_at IS NULL;
CREATE UNIQUE INDEX issuances_holder_key_uq ON eac.issuances (holder_key_hash, issuer_id)
	WHERE abandoned_at IS NULL AND kind IN ('dv', 'is');
CREATE UNIQUE INDEX issuances_request_uq ON eac.issuances (request_id)
	WHERE abandoned_at IS NULL AND request_id IS NOT NULL;

-- intents without result or abandonment: what recovery looks at (small)
CREATE TABLE eac.open_issuances (
	issuance_id bigint PRIMARY KEY REFERENCES eac.issuances (id)
);

CREATE FUNCTION eac.issuances_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n eac.issuances;
	f record;
	k record;
	a record;
	r record;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		-- the one change an intent may undergo: NULL -> abandoned, once
		IF OLD.abandoned_at IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('issuance %s was abandoned already', OLD.id);
		END IF;
		n := NEW;
		n.abandoned_at := NULL;
		n.abandon_reason := NULL;
		IF ROW(n.*) IS DISTINCT FROM ROW(OLD.*) OR NEW.abandoned_at IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA001',
				MESSAGE = format('issuance %s: an intent never changes; it can only be abandoned', OLD.id);
		END IF;
		IF EXISTS (SELECT 1 FROM eac.certificates WHERE issuance_id = OLD.id) THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('issuance %s has its certificate; it cannot be abandoned', OLD.id);
		END IF;
		RETURN NEW;
	END IF;

	NEW.abandoned_at := NULL;
	NEW.abandon_reason := NULL;
	-- the intent repeats its body exactly
	SELECT * INTO f FROM eac.cv_body_fields(NEW.tbs);
	IF ROW(f.car, f.chr, f.chat, f.effective, f.expiry) IS DISTINCT FROM
	   ROW(NEW.car, NEW.chr, NEW.chat, NEW.effective, NEW.expiry) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('intent CAR %s CHR %s: its fields differ from its to-be-signed body (CAR %s CHR %s %s..%s)',
				NEW.car, NEW.chr, f.car, f.chr, f.effective, f.expiry);
	END IF;
	SELECT * INTO a FROM eac.authorities WHERE id = NEW.issuer_id FOR SHARE;
	IF NOT FOUND OR a.kind NOT IN ('own_cvca', 'own_dv') THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('authority %s is not this engine''s own CVCA or DV; it issues nothing here', NEW.issuer_id);
	END IF;
	IF a.status <> 'active' THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('authority %s is %s; it issues nothing', NEW.issuer_id, a.status);
	END IF;
	-- CP-4.5b: only the issuer's active key signs; a new key (pending) signs
	-- only its own self-signed CVCA certificate
	SELECT * INTO k FROM eac.keys WHERE id = NEW.signing_key_id FOR SHARE;
	IF NOT FOUND OR k.authority_id IS DISTINCT FROM NEW.issuer_id OR k.pkcs11_uri IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('key %s is not a signing key of authority %s', NEW.signing_key_id, NEW.issuer_id);
	END IF;
	IF NOT (k.state = 'active' OR
		(k.state = 'pending' AND NEW.kind = 'cvca' AND NEW.holder_key_hash = k.pubkey_hash)) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('key %s is %s; it may not sign this certificate (CP-4.5b)', k.id, k.state);
	END IF;
	-- CP-4.2.2, CP-4.2.3: a DV or IS certificate only on a validated request
	IF NEW.request_id IS NOT NULL THEN
		SELECT * INTO r FROM eac.requests WHERE id = NEW.request_id FOR SHARE;
		IF NOT FOUND THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003', MESSAGE = format('request %s does not exist', NEW.request_id);
		END IF;
		IF r.state <> 'validated' THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('request %s is %s, not validated; nothing is issued on it (CP-4.2.2)', r.id, r.state);
		END IF;
		IF r.holder_chr <> NEW.chr THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003',
				MESSAGE = format('request %s asks for CHR %s, the intent says %s', r.id, r.holder_chr, NEW.chr);
		END IF;
	END IF;
	RETURN NEW;
END $$;

-- the open intents, kept at once (recovery and status read them)
CREATE FUNCTION eac.issuances_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO eac.open_issuances (issuance_id) SELECT n.id FROM new_rows n;
	PERFORM eac.audit_rows('issuance.intent', 'issuance', array_agg(n.id ORDER BY n.id),
		array_agg(json_build_object('kind', n.kind, 'issuer', n.issuer_id, 'key', n.signing_key_id,
			'chr', n.chr, 'car', n.car, 'request', n.request_id,
			'holder_key_sha256', encode(n.holder_key_hash, 'hex'),
			'tbs_sha256', encode(n.tbs_hash, 'hex')) ORDER BY n.id))
	FROM new_rows n HAVING count(*) > 0;
	RETURN NULL;
END $$;

CREATE FUNCTION eac.issuances_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	DELETE FROM eac.open_issuances WHERE issuance_id IN (SELECT n.id FROM new_rows n);
	PERFORM eac.audit_rows('issuance.abandon', 'issuance', array_agg(n.id ORDER BY n.id),
		array_agg(json_build_object('chr', n.chr, 'reason', n.abandon_reason) ORDER BY n.id))
	FROM new_rows n HAVING count(*) > 0;
	RETURN NULL;
END $$;



CREATE TRIGGER issuances_guard BEFORE INSERT OR UPDATE ON eac.issuances
	FOR EACH ROW EXECUTE FUNCTION eac.issuances_guard();
CREATE TRIGGER issuances_after_insert AFTER INSERT ON eac.issuances
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.issuances_after_insert();
CREATE TRIGGER issuances_after_update AFTER UPDATE ON eac.issuances
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.issuances_after_update();
CREATE TRIGGER issuances_forbid BEFORE DELETE ON eac.issuances
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER issuances_forbid_truncate BEFORE TRUNCATE ON eac.issuances
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

CREATE TABLE eac.certificates (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	source text NOT NULL CONSTRAINT certificates_source_ck CHECK (source IN ('issued', 'imported')),
	issuance_id bigint REFERENCES eac.issuances (id),
	issuer_id bigint NOT NULL REFERENCES eac.authorities (id),
	kind text NOT NULL CONSTRAINT certificates_kind_ck CHECK (kind IN ('cvca', 'link', 'dv', 'is')),
	chr text NOT NULL,
	car text NOT NULL,
	chat bytea NOT NULL,
	effective date NOT NULL,
	expiry date NOT NULL,
	holder_key_hash bytea NOT NULL CONSTRAINT certificates_holder_key_hash_ck CHECK (octet_length(holder_key_hash) = 32),
	request_id bigint REFERENCES eac.requests (id),
	der bytea NOT NULL CONSTRAINT certificates_der_ck CHECK (octet_length(der) BETWEEN 8 AND 8192),
	der_hash bytea NOT NULL CONSTRAINT certificates_der_hash_ck CHECK (der_hash = sha256(der)),
	issued_at timestamptz NOT NULL, -- imported: when it was imported
	distribute_by timestamptz,
	CONSTRAINT certificates_source_issuance_ck CHECK ((source = 'issued') = (issuance_id IS NOT NULL)),
	CONSTRAINT certificates_source_request_ck CHECK (source = 'issued' OR request_id IS NULL),
	CONSTRAINT certificates_issuance_uq UNIQUE (issuance_id),
	CONSTRAINT certificates_der_uq UNIQUE (der_hash)
);
CREATE UNIQUE INDEX certificates_chr_uq ON eac.certificates (chr, issuer_id, kind);
-- lookups by reference: an outer CAR, a link's CAR, a trust path (by CHR:
-- certificates_chr_uq leads with it)
CREATE INDEX certificates_car_ix ON eac.certificates (car);
CREATE UNIQUE INDEX certificates_holder_key_uq ON eac.certificates (holder_key_hash, issuer_id)
	WHERE kind IN ('dv', 'is');
CREATE UNIQUE INDEX certificates_request_uq ON eac.certificates (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX certificates_holder_key_ix ON eac.certificates (holder_key_hash);

-- The audit chain head right after each certificate's own event, written
-- with that event at commit: the newest one anchors the verifier against a
-- cut tail. Insert-only, one per certificate (a side table, because the
-- event is appended at commit, after the certificate row was written).
CREATE TABLE eac.certificate_anchors (
	certificate_id bigint PRIMARY KEY REFERENCES eac.certificates (id),
	audit_seq bigint NOT NULL,
	audit_hash bytea NOT NULL CONSTRAINT certificate_anchors_hash_ck CHECK (octet_length(audit_hash) = 32)
);
CREATE INDEX certificate_anchors_seq_ix ON eac.certificate_anchors (audit_seq);

-- certificates waiting to be distributed (CP-5.4.2): inserted with the
-- certificate, removed by its first distribution; stays small
CREATE TABLE eac.awaiting_distribution (
	certificate_id bigint PRIMARY KEY REFERENCES eac.certificates (id),
	deadline timestamptz NOT NULL
);
CREATE INDEX awaiting_distribution_deadline_ix ON eac.awaiting_distribution (deadline);

CREATE FUNCTION eac.certificates_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	body bytea;
	i record;
	f record;
	a record;
	ks text;
BEGIN
	body := eac.cv_cert_body(NEW.der);
	NEW.der_hash := sha256(NEW.der);
	IF NEW.issuance_id IS NOT NULL THEN
		-- 3. the result: exactly the body of its intent, which is still open
		SELECT * INTO i FROM eac.issuances WHERE id = NEW.issuance_id FOR SHARE;
		IF NOT FOUND THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003', MESSAGE = format('issuance %s does not exist', NEW.issuance_id);
		END IF;
		IF i.abandoned_at IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('issuance %s was abandoned (%s); its certificate is refused', i.id, i.abandon_reason);
		END IF;
		IF body <> i.tbs THEN
			RAISE EXCEPTION USING ERRCODE = 'EA006',
				MESSAGE = format('issuance %s: the certificate body (sha256 %s) differs from the intent''s (sha256 %s)',
					i.id, encode(sha256(body), 'hex'), encode(i.tbs_hash, 'hex'));
		END IF;
		SELECT state INTO ks FROM eac.keys WHERE id = i.signing_key_id FOR SHARE;
		IF ks = 'compromised' THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('issuance %s: key %s is compromised; the certificate is refused (CP-4.5b)',
					i.id, i.signing_key_id);
		END IF;
		NEW.source := 'issued';
		NEW.issuer_id := i.issuer_id;
		NEW.kind := i.kind;
		NEW.chr := i.chr;
		NEW.car := i.car;
		NEW.chat := i.chat;
		NEW.effective := i.effective;
		NEW.expiry := i.expiry;
		NEW.holder_key_hash := i.holder_key_hash;
		NEW.request_id := i.request_id;
		NEW.distribute_by := NEW.issued_at + i.distribute_within;
	ELSE
		-- a certificate we did not issue: it must say what the row says
		NEW.source := 'imported';
		NEW.distribute_by := NULL;
		IF NEW.request_id IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003', MESSAGE = 'an imported certificate answers none of our requests';
		END IF;
		SELECT * INTO a FROM eac.authorities WHERE id = NEW.issuer_id;
		IF NOT FOUND OR a.kind IN ('own_cvca', 'own_dv') THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003',
				MESSAGE = format('authority %s: certificates of our own authority are recorded only by issuance', NEW.issuer_id);
		END IF;
		SELECT * INTO f FROM eac.cv_body_fields(body);
		IF ROW(f.car, f.chr, f.chat, f.effective, f.expiry) IS DISTINCT FROM
		   ROW(NEW.car, NEW.chr, NEW.chat, NEW.effective, NEW.expiry) THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003',
				MESSAGE = format('imported certificate CHR %s: its fields differ from its body (CAR %s CHR %s %s..%s)',
					NEW.chr, f.car, f.chr, f.effective, f.expiry);
		END IF;
	END IF;
	RETURN NEW;
END $$;

CREATE FUNCTION eac.certificates_after() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	DELETE FROM eac.open_issuances
	WHERE issuance_id IN (SELECT n.issuance_id FROM new_rows n WHERE n.issuance_id IS NOT NULL);
	INSERT INTO eac.awaiting_distribution (certificate_id, deadline)
	SELECT n.id, n.distribute_by FROM new_rows n WHERE n.distribute_by IS NOT NULL;
	UPDATE eac.requests SET state = 'issued'
	WHERE id IN (SELECT n.request_id FROM new_rows n WHERE n.request_id IS NOT NULL);
	-- the events, and each certificate's anchor: the chain head right
	-- after the event that names it (the verifier's tail anchors)
	INSERT INTO eac.certificate_anchors (certificate_id, audit_seq, audit_hash)
	SELECT a.id, a.seq, a.hash FROM (
		SELECT 'certificate.' || CASE n.source WHEN 'issued' THEN 'issue' ELSE 'import' END AS action,
		       array_agg(n.id ORDER BY n.id) AS ids,
		       array_agg(json_build_object('kind', n.kind, 'issuer', n.issuer_id, 'chr', n.chr,
				'car', n.car, 'issuance', n.issuance_id, 'request', n.request_id,
				'effective', n.effective, 'expiry', n.expiry,
				'der_sha256', encode(n.der_hash, 'hex')) ORDER BY n.id) AS items
		FROM new_rows n GROUP BY n.source) g,
		LATERAL eac.audit_rows(g.action, 'certificate', g.ids, g.items) a;
	RETURN NULL;
END $$;



CREATE TRIGGER certificates_guard BEFORE INSERT ON eac.certificates
	FOR EACH ROW EXECUTE FUNCTION eac.certificates_guard();
CREATE TRIGGER certificates_after AFTER INSERT ON eac.certificates
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.certificates_after();
CREATE TRIGGER certificate_anchors_forbid BEFORE UPDATE OR DELETE ON eac.certificate_anchors
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER certificate_anchors_forbid_truncate BEFORE TRUNCATE ON eac.certificate_anchors
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER certificates_forbid BEFORE UPDATE OR DELETE ON eac.certificates
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER certificates_forbid_truncate BEFORE TRUNCATE ON eac.certificates
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- the small work tables change only through the triggers above
CREATE TRIGGER open_issuances_forbid BEFORE UPDATE ON eac.open_issuances
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER awaiting_distribution_forbid BEFORE UPDATE ON eac.awaiting_distribution
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();

-- ---------------------------------------------------------------------------
-- distribution: insert-only; distributed_at is a view, never an UPDATE

CREATE TABLE eac.distributions (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	certificate_id bigint NOT NULL REFERENCES eac.certificates (id),
	distributed_at timestamptz NOT NULL,
	channel text NOT NULL CONSTRAINT distributions_channel_ck CHECK (channel <> '' AND length(channel) <= 100),
	recipient text NOT NULL CONSTRAINT distributions_recipient_ck CHECK (recipient <> '' AND length(recipient) <= 200)
);
CREATE INDEX distributions_certificate_ix ON eac.distributions (certificate_id);

CREATE FUNCTION eac.distributions_after() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	DELETE FROM eac.awaiting_distribution
	WHERE certificate_id IN (SELECT n.certificate_id FROM new_rows n);
	PERFORM eac.audit_rows('certificate.distribute', 'certificate', array_agg(n.certificate_id ORDER BY n.id),
		array_agg(json_build_object('channel', n.channel, 'recipient', n.recipient,
			'at', n.distributed_at) ORDER BY n.id))
	FROM new_rows n HAVING count(*) > 0;
	RETURN NULL;
END $$;



CREATE TRIGGER distributions_after AFTER INSERT ON eac.distributions
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.distributions_after();
CREATE TRIGGER distributions_forbid BEFORE UPDATE OR DELETE ON eac.distributions
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER distributions_forbid_truncate BEFORE TRUNCATE ON eac.distributions
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

CREATE VIEW eac.certificates_v AS
	SELECT c.*,
	       (SELECT min(d.distributed_at) FROM eac.distributions d WHERE d.certificate_id = c.id) AS distributed_at,
	       a.audit_seq, a.audit_hash
	FROM eac.certificates c LEFT JOIN eac.certificate_anchors a ON a.certificate_id = c.id;

-- ---------------------------------------------------------------------------
-- key ceremonies (CP-4.2.1): insert-only, anchored in the audit chain

CREATE TABLE eac.ceremonies (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL CONSTRAINT ceremonies_kind_ck CHECK (kind ~ '^[a-z][a-z0-9_-]{0,39}$'),
	officers text NOT NULL CONSTRAINT ceremonies_officers_ck
		CHECK (octet_length(officers) <= 4096 AND json_typeof(officers::json) = 'array'),
	config_hash bytea NOT NULL CONSTRAINT ceremonies_config_hash_ck CHECK (octet_length(config_hash) = 32),
	transcript text NOT NULL CONSTRAINT ceremonies_transcript_ck
		CHECK (octet_length(transcript) <= 1048576 AND json_typeof(transcript::json) = 'object'),
	created_at timestamptz NOT NULL,
	audit_first bigint NOT NULL,
	audit_seq bigint NOT NULL,
	audit_hash bytea NOT NULL CONSTRAINT ceremonies_audit_hash_ck CHECK (octet_length(audit_hash) = 32),
	CONSTRAINT ceremonies_audit_range_ck CHECK (audit_first BETWEEN 1 AND audit_seq)
);

CREATE FUNCTION eac.ceremonies_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	ev record;
BEGIN
	SELECT * INTO ev FROM eac.audit_append('ceremony.record', 'ceremony:' || NEW.id,
		json_build_object('kind', NEW.kind, 'officers', NEW.officers::json,
			'config_sha256', encode(NEW.config_hash, 'hex'),
			'transcript_sha256', encode(sha256(convert_to(NEW.transcript, 'UTF8')), 'hex'),
			'audit_first', NEW.audit_first)::text);
	NEW.audit_seq := ev.seq;
	NEW.audit_hash := ev.hash;
	RETURN NEW;
END $$;

CREATE TRIGGER ceremonies_guard BEFORE INSERT ON eac.ceremonies
	FOR EACH ROW EXECUTE FUNCTION eac.ceremonies_guard();
CREATE TRIGGER ceremonies_forbid BEFORE UPDATE OR DELETE ON eac.ceremonies
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER ceremonies_forbid_truncate BEFORE TRUNCATE ON eac.ceremonies
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- the bookkeeping is insert-only too
CREATE TRIGGER schema_migrations_forbid BEFORE UPDATE OR DELETE ON eac.schema_migrations
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE FUNCTION eac.meta_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.flavour <> OLD.flavour OR NEW.version <= OLD.version OR NEW.id <> OLD.id THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = 'the schema flavour never changes and its version only goes up';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER meta_guard BEFORE UPDATE ON eac.meta FOR EACH ROW EXECUTE FUNCTION eac.meta_guard();
CREATE TRIGGER meta_forbid BEFORE DELETE ON eac.meta FOR EACH ROW EXECUTE FUNCTION eac.forbid();

-- ---------------------------------------------------------------------------
-- privileges: the service role inserts and reads, updates only the columns
-- that carry a guarded state, never deletes or truncates; the auditor reads.

GRANT SELECT ON ALL TABLES IN SCHEMA eac TO eac_service, eac_auditor;
GRANT INSERT (actor, action, object, details) ON eac.audit_events TO eac_service;
GRANT INSERT (kind, country, mnemonic, name, organisations, domestic, conformity_expiry, created_at)
	ON eac.authorities TO eac_service;
GRANT UPDATE (status, status_changed_at, name, organisations, conformity_expiry) ON eac.authorities TO eac_service;
GRANT INSERT (authority_id, pkcs11_uri, label, pubkey_hash, algorithm, curve, state, created_at)
	ON eac.keys TO eac_service;
GRANT UPDATE (state, state_changed_at, label) ON eac.keys TO eac_service;
GRANT INSERT (scope, last_value), UPDATE (last_value) ON eac.seq_counters TO eac_service;
GRANT INSERT (kind, channel, authority_id, raw, raw_hash, holder_chr, outer_car, received_at,
	acknowledged_at, deadline) ON eac.requests TO eac_service;
GRANT UPDATE (acknowledged_at, state, rule_id, message, decided_by, decided_at) ON eac.requests TO eac_service;
GRANT INSERT (issuer_id, signing_key_id, kind, chr, car, holder_key_hash, request_id, chat, effective,
	expiry, tbs, tbs_hash, distribute_within, created_at) ON eac.issuances TO eac_service;
GRANT UPDATE (abandoned_at, abandon_reason) ON eac.issuances TO eac_service;
GRANT INSERT (issuance_id, issuer_id, kind, chr, car, chat, effective, expiry, holder_key_hash, der,
	issued_at) ON eac.certificates TO eac_service;
GRANT INSERT (certificate_id, distributed_at, channel, recipient) ON eac.distributions TO eac_service;
GRANT INSERT (kind, officers, config_hash, transcript, created_at, audit_first) ON eac.ceremonies TO eac_service;
-- No function is callable by anyone but the owner (the auditor must not
-- reach eac.audit_append); trigger functions need no grant to fire.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA eac FROM PUBLIC;
