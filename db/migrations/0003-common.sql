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
