-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 1, the DV's part (after 0001-common.sql). The DV issues IS
-- certificates to the inspection systems it registered (CP-3.2.4); it
-- imports its DV certificates and the CVCA (link) certificates of its own and
-- foreign CVCAs, and keeps the requests it sent them.

ALTER TABLE eac.authorities ADD CONSTRAINT authorities_kind_ck CHECK (kind IN ('own_dv', 'cvca'));
ALTER TABLE eac.issuances ADD CONSTRAINT issuances_engine_kind_ck CHECK (kind = 'is');
ALTER TABLE eac.certificates ADD CONSTRAINT certificates_engine_kind_ck
	CHECK ((source = 'issued' AND kind = 'is') OR
	       (source = 'imported' AND kind IN ('cvca', 'link', 'dv')));

-- CP-3.2.4: the DV's registry of approved inspection systems
CREATE TABLE eac.inspection_systems (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL CONSTRAINT inspection_systems_name_ck CHECK (name <> '' AND length(name) <= 200),
	mnemonic text NOT NULL CONSTRAINT inspection_systems_mnemonic_ck
		CHECK (mnemonic ~ '^[ -~\u00a0-\u00ff]{1,9}$'),
	organisation text NOT NULL
		CONSTRAINT inspection_systems_organisation_ck CHECK (organisation <> '' AND length(organisation) <= 200),
	status text NOT NULL DEFAULT 'operational' CONSTRAINT inspection_systems_status_ck
		CHECK (status IN ('operational', 'stolen', 'lost', 'retired')),
	created_at timestamptz NOT NULL,
	status_changed_at timestamptz,
	CONSTRAINT inspection_systems_name_uq UNIQUE (name),
	CONSTRAINT inspection_systems_mnemonic_uq UNIQUE (mnemonic)
);

CREATE FUNCTION eac.inspection_systems_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n eac.inspection_systems;
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.status <> 'operational' THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002', MESSAGE = 'an inspection system is registered operational';
		END IF;
		NEW.status_changed_at := NULL;
		RETURN NEW;
	END IF;
	n := NEW;
	n.status := OLD.status;
	n.status_changed_at := OLD.status_changed_at;
	n.organisation := OLD.organisation;
	IF ROW(n.*) IS DISTINCT FROM ROW(OLD.*) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = format('inspection system %s: name and mnemonic never change', OLD.id);
	END IF;
	-- a lost one may be found; a stolen one is never trusted again; retired is final
	IF NEW.status <> OLD.status AND NOT (
		(OLD.status = 'operational' AND NEW.status IN ('stolen', 'lost', 'retired')) OR
		(OLD.status = 'lost' AND NEW.status IN ('operational', 'stolen', 'retired')) OR
		(OLD.status = 'stolen' AND NEW.status = 'retired')) THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('inspection system %s: status %s cannot become %s', OLD.id, OLD.status, NEW.status);
	END IF;
	RETURN NEW;
END $$;

CREATE FUNCTION eac.inspection_systems_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM eac.audit_append('is.register', 'is:' || NEW.id,
			json_build_object('name', NEW.name, 'mnemonic', NEW.mnemonic,
				'organisation', NEW.organisation)::text);
	ELSE
		PERFORM eac.audit_append('is.change', 'is:' || NEW.id,
			json_build_object('status', json_build_array(OLD.status, NEW.status),
				'organisation', json_build_array(OLD.organisation, NEW.organisation),
				'reason', eac.reason())::text);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER inspection_systems_guard BEFORE INSERT OR UPDATE ON eac.inspection_systems
	FOR EACH ROW EXECUTE FUNCTION eac.inspection_systems_guard();
CREATE TRIGGER inspection_systems_audit AFTER INSERT OR UPDATE ON eac.inspection_systems
	FOR EACH ROW EXECUTE FUNCTION eac.inspection_systems_audit();
CREATE TRIGGER inspection_systems_forbid BEFORE DELETE ON eac.inspection_systems
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER inspection_systems_forbid_truncate BEFORE TRUNCATE ON eac.inspection_systems
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- IS requests come from a registered inspection system; IS keys may be
-- registered (to mark one compromised, CP-4.7a(c))
ALTER TABLE eac.requests ADD COLUMN inspection_system_id bigint REFERENCES eac.inspection_systems (id);
ALTER TABLE eac.requests ADD CONSTRAINT requests_kind_ck CHECK (kind = 'is');
ALTER TABLE eac.requests ADD CONSTRAINT requests_channel_ck CHECK (channel = 'is');
ALTER TABLE eac.requests ADD CONSTRAINT requests_inspection_system_ck CHECK (inspection_system_id IS NOT NULL);
CREATE INDEX requests_inspection_system_ix ON eac.requests (inspection_system_id);
ALTER TABLE eac.keys ADD COLUMN inspection_system_id bigint REFERENCES eac.inspection_systems (id);
ALTER TABLE eac.keys ADD CONSTRAINT keys_one_holder_ck
	CHECK (authority_id IS NULL OR inspection_system_id IS NULL);

-- CP-3.3.2: an IS certificate only for an inspection system still
-- registered operational, not stolen or lost (row lock: a status change
-- waits for the intent, and the intent sees a committed change).
CREATE FUNCTION eac.issuances_dv_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s record;
BEGIN
	SELECT i.id, i.name, i.status INTO s FROM eac.requests r
	JOIN eac.inspection_systems i ON i.id = r.inspection_system_id
	WHERE r.id = NEW.request_id FOR SHARE OF i;
	IF FOUND AND s.status <> 'operational' THEN
		RAISE EXCEPTION USING ERRCODE = 'EA005',
			MESSAGE = format('inspection system %s (%s) is %s; no certificate is issued to it (CP-3.3.2)',
				s.id, s.name, s.status);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER issuances_dv_check BEFORE INSERT ON eac.issuances
	FOR EACH ROW EXECUTE FUNCTION eac.issuances_dv_check();

-- requests this DV sent to CVCAs (CP-3.2.3, CP-4.7c), answered once by the
-- certificate imported in reply
CREATE TABLE eac.dv_requests (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cvca_id bigint NOT NULL REFERENCES eac.authorities (id),
	car text CONSTRAINT dv_requests_car_ck CHECK (car ~ '^[A-Z]{2}[ -~\u00a0-\u00ff]{0,9}[0-9A-Z]{5}$'),
	chr text NOT NULL CONSTRAINT dv_requests_chr_ck CHECK (chr ~ '^[A-Z]{2}[ -~\u00a0-\u00ff]{0,9}[0-9A-Z]{5}$'),
	key_id bigint NOT NULL REFERENCES eac.keys (id),
	raw bytea NOT NULL CONSTRAINT dv_requests_raw_ck CHECK (octet_length(raw) BETWEEN 1 AND 16384),
	raw_hash bytea NOT NULL CONSTRAINT dv_requests_raw_hash_ck CHECK (raw_hash = sha256(raw)),
	created_at timestamptz NOT NULL,
	answered_by bigint REFERENCES eac.certificates (id),
	answered_at timestamptz,
	CONSTRAINT dv_requests_raw_hash_uq UNIQUE (raw_hash),
	CONSTRAINT dv_requests_answered_by_uq UNIQUE (answered_by),
	CONSTRAINT dv_requests_answer_ck CHECK ((answered_by IS NULL) = (answered_at IS NULL))
);
CREATE INDEX dv_requests_open_ix ON eac.dv_requests (created_at) WHERE answered_by IS NULL;

CREATE FUNCTION eac.dv_requests_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n eac.dv_requests;
	c record;
	kh bytea;
BEGIN
	IF TG_OP = 'INSERT' THEN
		NEW.answered_by := NULL;
		NEW.answered_at := NULL;
		IF (SELECT kind FROM eac.authorities WHERE id = NEW.cvca_id) IS DISTINCT FROM 'cvca' THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003',
				MESSAGE = format('authority %s is not a CVCA', NEW.cvca_id);
		END IF;
		RETURN NEW;
	END IF;
	IF OLD.answered_by IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002', MESSAGE = format('DV request %s is answered already', OLD.id);
	END IF;
	n := NEW;
	n.answered_by := NULL;
	n.answered_at := NULL;
	IF ROW(n.*) IS DISTINCT FROM ROW(OLD.*) OR NEW.answered_by IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'EA001',
			MESSAGE = format('DV request %s: only its answer is recorded, once', OLD.id);
	END IF;
	-- the answer is a DV certificate from that CVCA for the key we asked for
	SELECT * INTO c FROM eac.certificates WHERE id = NEW.answered_by;
	SELECT pubkey_hash INTO kh FROM eac.keys WHERE id = OLD.key_id;
	IF c.kind <> 'dv' OR c.issuer_id <> OLD.cvca_id OR c.holder_key_hash <> kh THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('certificate %s does not answer DV request %s (kind, issuer or key differ)',
				NEW.answered_by, OLD.id);
	END IF;
	RETURN NEW;
END $$;

CREATE FUNCTION eac.dv_requests_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM eac.audit_append('dv-request.send', 'dv-request:' || NEW.id,
			json_build_object('cvca', NEW.cvca_id, 'car', NEW.car, 'chr', NEW.chr, 'key', NEW.key_id,
				'sha256', encode(NEW.raw_hash, 'hex'))::text);
	ELSE
		PERFORM eac.audit_append('dv-request.answer', 'dv-request:' || NEW.id,
			json_build_object('certificate', NEW.answered_by)::text);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER dv_requests_guard BEFORE INSERT OR UPDATE ON eac.dv_requests
	FOR EACH ROW EXECUTE FUNCTION eac.dv_requests_guard();
CREATE CONSTRAINT TRIGGER dv_requests_audit AFTER INSERT OR UPDATE ON eac.dv_requests
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION eac.dv_requests_audit();
CREATE TRIGGER dv_requests_forbid BEFORE DELETE ON eac.dv_requests
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER dv_requests_forbid_truncate BEFORE TRUNCATE ON eac.dv_requests
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

GRANT SELECT ON eac.inspection_systems, eac.dv_requests TO eac_service, eac_auditor;
GRANT INSERT (name, mnemonic, organisation, created_at) ON eac.inspection_systems TO eac_service;
GRANT UPDATE (status, status_changed_at, organisation) ON eac.inspection_systems TO eac_service;
GRANT INSERT (inspection_system_id) ON eac.requests TO eac_service;
GRANT INSERT (inspection_system_id) ON eac.keys TO eac_service;
GRANT INSERT (cvca_id, car, chr, key_id, raw, raw_hash, created_at) ON eac.dv_requests TO eac_service;
GRANT UPDATE (answered_by, answered_at) ON eac.dv_requests TO eac_service;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA eac FROM PUBLIC;
