-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 3 (both engines): the same checks, cheaper per row.
--
-- The intent and result triggers read every to-be-signed body and every
-- certificate with eac.cv_body_fields() and eac.cv_cert_body(). Version 1
-- parsed each TLV header through a call of eac.tlv() — a query per header,
-- 11 of them per body, ≈ 70 µs of server CPU per certificate, the largest
-- single item of the batch's database time (docs/PERFORMANCE.md). Here the
-- headers are read inline: the same grammar, the same refusals with the
-- same messages and SQLSTATE (EA004), only without the calls.
-- tests/unit/db/test_schema.c compares both versions on thousands of
-- mutated bodies and certificates.

-- The TLV header rules of eac.tlv() (../shared/spec/cv-format.md §1): a tag
-- of 1 or 2 octets, a definite length in the minimal number of octets
-- (1..3), no length running past the end of the value given.
CREATE OR REPLACE FUNCTION eac.cv_body_fields(body bytea, OUT car text, OUT chr text, OUT chat bytea,
					      OUT effective date, OUT expiry date)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	n int := octet_length(body);
	p int := 0;   -- offset of the TLV being read
	q int;        -- read position inside its header
	tag int;
	l int;
	i int := -1;  -- -1: the body 7F4E itself; then its fields, 1..8
	d0 int; d1 int; d2 int; d3 int; d4 int; d5 int;
	want int[] := ARRAY[x'5F29'::int, x'42'::int, x'7F49'::int, x'5F20'::int,
			    x'7F4C'::int, x'5F25'::int, x'5F24'::int, x'65'::int];
BEGIN
	WHILE i < 0 OR p < n LOOP
		-- one header at p (as eac.tlv)
		IF p + 2 > n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated TLV at offset %s', p);
		END IF;
		tag := get_byte(body, p);
		q := p + 1;
		IF tag & 31 = 31 THEN
			IF get_byte(body, q) & 128 <> 0 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('tag longer than 2 octets at offset %s', q - 1);
			END IF;
			tag := tag * 256 + get_byte(body, q);
			q := q + 1;
		END IF;
		IF q >= n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated TLV at offset %s', q);
		END IF;
		l := get_byte(body, q);
		q := q + 1;
		IF l = 129 THEN
			IF q + 1 > n THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated length at offset %s', q);
			END IF;
			l := get_byte(body, q);
			q := q + 1;
			IF l < 128 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('non-minimal length at offset %s', q - 2);
			END IF;
		ELSIF l = 130 THEN
			IF q + 2 > n THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated length at offset %s', q);
			END IF;
			l := get_byte(body, q) * 256 + get_byte(body, q + 1);
			q := q + 2;
			IF l < 256 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('non-minimal length at offset %s', q - 3);
			END IF;
		ELSIF l > 127 THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('unsupported length form at offset %s', q - 1);
		END IF;
		IF q + l > n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('length %s at offset %s runs past the end', l, q);
		END IF;
		-- q: the value's offset, l: its length
		IF i < 0 THEN
			IF tag <> x'7F4E'::int OR q + l <> n THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'not exactly one certificate body 7F4E';
			END IF;
			i := 0;
			p := q;
			CONTINUE;
		END IF;
		i := i + 1;
		IF i > 8 OR tag <> want[i] THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004',
				MESSAGE = format('certificate body: unexpected tag %s at offset %s', to_hex(tag), p);
		END IF;
		IF tag = x'42'::int THEN
			car := convert_from(substring(body FROM q + 1 FOR l), 'LATIN1');
		ELSIF tag = x'5F20'::int THEN
			chr := convert_from(substring(body FROM q + 1 FOR l), 'LATIN1');
		ELSIF tag = x'7F4C'::int THEN
			chat := substring(body FROM p + 1 FOR q + l - p);
		ELSIF tag = x'5F25'::int OR tag = x'5F24'::int THEN
			-- unpacked-BCD YYMMDD (as eac.cv_date)
			IF l <> 6 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'date is not 6 octets';
			END IF;
			d0 := get_byte(body, q);
			d1 := get_byte(body, q + 1);
			d2 := get_byte(body, q + 2);
			d3 := get_byte(body, q + 3);
			d4 := get_byte(body, q + 4);
			d5 := get_byte(body, q + 5);
			IF greatest(d0, d1, d2, d3, d4, d5) > 9 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'date digit is not BCD';
			END IF;
			IF d2 * 10 + d3 NOT BETWEEN 1 AND 12 OR d4 * 10 + d5 NOT BETWEEN 1 AND 31 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'date out of range';
			END IF;
			IF tag = x'5F25'::int THEN
				effective := make_date(2000 + d0 * 10 + d1, d2 * 10 + d3, d4 * 10 + d5);
			ELSE
				expiry := make_date(2000 + d0 * 10 + d1, d2 * 10 + d3, d4 * 10 + d5);
			END IF;
		END IF;
		p := q + l;
	END LOOP;
	IF i < 7 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'certificate body: mandatory field missing';
	END IF;
END $$;

-- The certificate body of a CV certificate: DER is exactly
-- 7F21 { 7F4E body, 5F37 signature } (TR-03110-3 C.1) and nothing else;
-- returns the whole 7F4E TLV, the bytes that were signed.
CREATE OR REPLACE FUNCTION eac.cv_cert_body(der bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	n int := octet_length(der);
	p int := 0;
	q int;
	tag int;
	l int;
	k int := 0;     -- 0: 7F21, 1: 7F4E, 2: 5F37
	c_voff int;
	b_end int;
BEGIN
	LOOP
		-- one header at p (as eac.tlv)
		IF p + 2 > n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated TLV at offset %s', p);
		END IF;
		tag := get_byte(der, p);
		q := p + 1;
		IF tag & 31 = 31 THEN
			IF get_byte(der, q) & 128 <> 0 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('tag longer than 2 octets at offset %s', q - 1);
			END IF;
			tag := tag * 256 + get_byte(der, q);
			q := q + 1;
		END IF;
		IF q >= n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated TLV at offset %s', q);
		END IF;
		l := get_byte(der, q);
		q := q + 1;
		IF l = 129 THEN
			IF q + 1 > n THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated length at offset %s', q);
			END IF;
			l := get_byte(der, q);
			q := q + 1;
			IF l < 128 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('non-minimal length at offset %s', q - 2);
			END IF;
		ELSIF l = 130 THEN
			IF q + 2 > n THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('truncated length at offset %s', q);
			END IF;
			l := get_byte(der, q) * 256 + get_byte(der, q + 1);
			q := q + 2;
			IF l < 256 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('non-minimal length at offset %s', q - 3);
			END IF;
		ELSIF l > 127 THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('unsupported length form at offset %s', q - 1);
		END IF;
		IF q + l > n THEN
			RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = format('length %s at offset %s runs past the end', l, q);
		END IF;
		IF k = 0 THEN
			IF tag <> x'7F21'::int THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'not a CV certificate (tag 7F21 expected)';
			END IF;
			IF q + l <> n THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'trailing bytes after the CV certificate';
			END IF;
			c_voff := q;
			p := q;
		ELSIF k = 1 THEN
			IF tag <> x'7F4E'::int THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'CV certificate: body 7F4E expected first';
			END IF;
			b_end := q + l;
			p := b_end;
		ELSE
			IF tag <> x'5F37'::int OR l = 0 THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'CV certificate: signature 5F37 expected after the body';
			END IF;
			IF q + l <> n THEN
				RAISE EXCEPTION USING ERRCODE = 'EA004', MESSAGE = 'CV certificate: data after the signature';
			END IF;
			RETURN substring(der FROM c_voff + 1 FOR b_end - c_voff);
		END IF;
		k := k + 1;
	END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- The intent checks, once per statement instead of once per row
--
-- Version 1 checked each new intent in a BEFORE ROW trigger: four queries
-- per row (body, authority, key, request), each a plan run from PL/pgSQL.
-- A batch inserts 64 intents in one statement; the same checks now run
-- over the statement's new rows, set-wise, before its other AFTER triggers
-- (trigger names sort: issuances_admit_* < issuances_after_insert). The
-- rows are locked as before (authority, key, request FOR SHARE, in that
-- order), so a concurrent state change waits for the intent's commit or is
-- seen by it. The refusals, their SQLSTATEs and messages are those of
-- version 1; an intent is never inserted abandoned (version 1 cleared the
-- two columns silently; now it is refused).

CREATE OR REPLACE FUNCTION eac.issuances_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n eac.issuances;
BEGIN
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
END $$;

DROP TRIGGER issuances_guard ON eac.issuances;
CREATE TRIGGER issuances_guard BEFORE UPDATE ON eac.issuances
	FOR EACH ROW EXECUTE FUNCTION eac.issuances_guard();

CREATE FUNCTION eac.issuances_admit_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	x record;
BEGIN
	SELECT n.chr INTO x FROM new_rows n
	WHERE n.abandoned_at IS NOT NULL OR n.abandon_reason IS NOT NULL ORDER BY n.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('intent CHR %s: an intent is recorded open; it is abandoned only later', x.chr);
	END IF;
	-- the intent repeats its body exactly
	SELECT n.car, n.chr, f.car AS fcar, f.chr AS fchr, f.effective, f.expiry INTO x
	FROM new_rows n, LATERAL eac.cv_body_fields(n.tbs) f
	WHERE ROW(f.car, f.chr, f.chat, f.effective, f.expiry) IS DISTINCT FROM
	      ROW(n.car, n.chr, n.chat, n.effective, n.expiry)
	ORDER BY n.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('intent CAR %s CHR %s: its fields differ from its to-be-signed body (CAR %s CHR %s %s..%s)',
				x.car, x.chr, x.fcar, x.fchr, x.effective, x.expiry);
	END IF;
	-- the issuer: this engine's own authority, active
	PERFORM 1 FROM eac.authorities a WHERE a.id IN (SELECT n.issuer_id FROM new_rows n) ORDER BY a.id FOR SHARE;
	SELECT n.issuer_id, a.kind, a.status INTO x
	FROM new_rows n LEFT JOIN eac.authorities a ON a.id = n.issuer_id
	WHERE a.id IS NULL OR a.kind NOT IN ('own_cvca', 'own_dv') OR a.status <> 'active'
	ORDER BY (a.id IS NULL OR a.kind NOT IN ('own_cvca', 'own_dv')) DESC, n.id LIMIT 1;
	IF FOUND THEN
		IF x.kind IS NULL OR x.kind NOT IN ('own_cvca', 'own_dv') THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003',
				MESSAGE = format('authority %s is not this engine''s own CVCA or DV; it issues nothing here', x.issuer_id);
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('authority %s is %s; it issues nothing', x.issuer_id, x.status);
	END IF;
	-- CP-4.5b: only the issuer's active key signs; a new key (pending) signs
	-- only its own self-signed CVCA certificate
	PERFORM 1 FROM eac.keys k WHERE k.id IN (SELECT n.signing_key_id FROM new_rows n) ORDER BY k.id FOR SHARE;
	SELECT n.signing_key_id, n.issuer_id, k.id AS kid, k.state,
	       (k.id IS NULL OR k.authority_id IS DISTINCT FROM n.issuer_id OR k.pkcs11_uri IS NULL) AS foreign_key INTO x
	FROM new_rows n LEFT JOIN eac.keys k ON k.id = n.signing_key_id
	WHERE k.id IS NULL OR k.authority_id IS DISTINCT FROM n.issuer_id OR k.pkcs11_uri IS NULL
	   OR NOT (k.state = 'active' OR (k.state = 'pending' AND n.kind = 'cvca' AND n.holder_key_hash = k.pubkey_hash))
	ORDER BY 5 DESC, n.id LIMIT 1;
	IF FOUND THEN
		IF x.foreign_key THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003',
				MESSAGE = format('key %s is not a signing key of authority %s', x.signing_key_id, x.issuer_id);
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('key %s is %s; it may not sign this certificate (CP-4.5b)', x.kid, x.state);
	END IF;
	-- CP-4.2.2, CP-4.2.3: a DV or IS certificate only on a validated request
	-- that asks for this CHR
	PERFORM 1 FROM eac.requests r WHERE r.id IN (SELECT n.request_id FROM new_rows n) ORDER BY r.id FOR SHARE;
	SELECT n.request_id, n.chr, r.id AS rid, r.state, r.holder_chr INTO x
	FROM new_rows n LEFT JOIN eac.requests r ON r.id = n.request_id
	WHERE n.request_id IS NOT NULL AND (r.id IS NULL OR r.state <> 'validated' OR r.holder_chr <> n.chr)
	ORDER BY (r.id IS NULL) DESC, (r.state <> 'validated') DESC, n.id LIMIT 1;
	IF FOUND THEN
		IF x.rid IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003', MESSAGE = format('request %s does not exist', x.request_id);
		END IF;
		IF x.state <> 'validated' THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('request %s is %s, not validated; nothing is issued on it (CP-4.2.2)', x.rid, x.state);
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('request %s asks for CHR %s, the intent says %s', x.rid, x.holder_chr, x.chr);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER issuances_admit_rows AFTER INSERT ON eac.issuances
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.issuances_admit_rows();

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA eac FROM PUBLIC;
