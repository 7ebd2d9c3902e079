-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 1, the CVCA's part (after 0001-common.sql). The CVCA
-- issues its own CVCA and link certificates and DV certificates for domestic
-- and foreign DVs (CP-1.4a); it imports foreign CVCA certificates.

ALTER TABLE eac.authorities ADD CONSTRAINT authorities_kind_ck
	CHECK (kind IN ('own_cvca', 'foreign_cvca', 'dv'));
ALTER TABLE eac.requests ADD CONSTRAINT requests_kind_ck CHECK (kind = 'dv');
ALTER TABLE eac.requests ADD CONSTRAINT requests_channel_ck CHECK (channel IN ('domestic', 'foreign'));
ALTER TABLE eac.issuances ADD CONSTRAINT issuances_engine_kind_ck CHECK (kind IN ('cvca', 'link', 'dv'));
ALTER TABLE eac.certificates ADD CONSTRAINT certificates_engine_kind_ck
	CHECK ((source = 'issued' AND kind IN ('cvca', 'link', 'dv')) OR
	       (source = 'imported' AND kind IN ('cvca', 'link')));

-- CP-1.3a: a country has at most three DVs. Counted under a per-country
-- advisory lock so that two registrations cannot both see two.
CREATE FUNCTION eac.authorities_dv_limit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n int;
BEGIN
	IF NEW.kind <> 'dv' THEN
		RETURN NEW;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('eac.dv-count.' || NEW.country));
	SELECT count(*) INTO n FROM eac.authorities
	WHERE kind = 'dv' AND country = NEW.country AND status <> 'retired';
	IF n >= 3 THEN
		RAISE EXCEPTION USING ERRCODE = 'EA005',
			MESSAGE = format('country %s has %s DVs already; at most 3 (CP-1.3a)', NEW.country, n);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER authorities_dv_limit BEFORE INSERT ON eac.authorities
	FOR EACH ROW EXECUTE FUNCTION eac.authorities_dv_limit();

-- CP-3.3.1(b): a DV certificate only for a DV this CVCA still considers
-- valid (the requesting DV's authority is active).
CREATE FUNCTION eac.issuances_cvca_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	st text;
	aid bigint;
BEGIN
	IF NEW.request_id IS NULL THEN
		RETURN NEW;
	END IF;
	SELECT a.status, a.id INTO st, aid FROM eac.requests r JOIN eac.authorities a ON a.id = r.authority_id
	WHERE r.id = NEW.request_id FOR SHARE OF a;
	IF st IS NOT NULL AND st <> 'active' THEN
		RAISE EXCEPTION USING ERRCODE = 'EA005',
			MESSAGE = format('DV authority %s is %s; no certificate is issued to it (CP-3.3.1)', aid, st);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER issuances_cvca_check BEFORE INSERT ON eac.issuances
	FOR EACH ROW EXECUTE FUNCTION eac.issuances_cvca_check();

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA eac FROM PUBLIC;
