-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 4 (both engines): the same rules, fewer per-row calls on
-- the batch's path (docs/PERFORMANCE.md).
--
-- A trigger function declared SECURITY DEFINER SET search_path (as every
-- function here must be) costs a configuration change and plan-cache
-- checks per call, besides its queries: the request guard ran three times
-- per issued certificate, the certificate guard once.
-- Here the row triggers carry a WHEN condition (evaluated by the executor,
-- no function call) that is false only on the hot paths whose rules it
-- decides itself or whose remaining rules a statement trigger checks once
-- per statement; every other row still meets the version 1 function,
-- unchanged, with its messages. The functions eac.requests_guard() and
-- eac.certificates_guard() are not replaced.

-- ---------------------------------------------------------------------------
-- pending requests: a side table instead of a partial index on state
--
-- requests_pending_ix (deadline WHERE state IN (received, validated))
-- named state in its predicate, so no change of state could be a HOT
-- update: each request row was written twice more with all its index
-- entries. The queue now lives in eac.pending_requests, kept by the
-- statement triggers below; the request table leaves room on its pages
-- for the two state changes (fillfactor 70: 85 % of them HOT in the
-- bench's batch).

CREATE TABLE eac.pending_requests (
	request_id bigint PRIMARY KEY REFERENCES eac.requests (id),
	deadline timestamptz NOT NULL
);
CREATE INDEX pending_requests_deadline_ix ON eac.pending_requests (deadline, request_id);
INSERT INTO eac.pending_requests (request_id, deadline)
SELECT id, deadline FROM eac.requests WHERE state IN ('received', 'validated');
DROP INDEX eac.requests_pending_ix;
ALTER TABLE eac.requests SET (fillfactor = 70);

CREATE TRIGGER pending_requests_forbid BEFORE UPDATE ON eac.pending_requests
	FOR EACH ROW EXECUTE FUNCTION eac.forbid();
CREATE TRIGGER pending_requests_forbid_truncate BEFORE TRUNCATE ON eac.pending_requests
	FOR EACH STATEMENT EXECUTE FUNCTION eac.forbid();

-- The work tables that mirror the record's state (pending requests, open
-- intents, certificates awaiting distribution) change only through the
-- triggers that keep them: a row inserted or deleted by a statement of
-- its own, even the owner's, is refused, so that no request, intent or
-- distribution deadline drops out of the queue and of status (CP-5.4.2)
-- while the record says it is pending. (A partial index, as the pending
-- requests were before, could not disagree with its table.)
CREATE FUNCTION eac.forbid_direct() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'EA001',
		MESSAGE = format('%s on %s is forbidden: it follows the record and changes only with it',
			TG_OP, TG_TABLE_NAME);
END $$;
CREATE TRIGGER pending_requests_direct BEFORE INSERT OR DELETE ON eac.pending_requests
	FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION eac.forbid_direct();
CREATE TRIGGER open_issuances_direct BEFORE INSERT OR DELETE ON eac.open_issuances
	FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION eac.forbid_direct();
CREATE TRIGGER awaiting_distribution_direct BEFORE INSERT OR DELETE ON eac.awaiting_distribution
	FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION eac.forbid_direct();

-- ---------------------------------------------------------------------------
-- the request guard (CP-4.2.2): the version 1 function, called only when
-- the executor cannot see at once that the row keeps the rules

DROP TRIGGER requests_guard ON eac.requests;

-- a request enters the queue as received
CREATE TRIGGER requests_guard_insert BEFORE INSERT ON eac.requests FOR EACH ROW
	WHEN (NEW.state <> 'received' OR NEW.rule_id IS NOT NULL OR NEW.decided_at IS NOT NULL)
	EXECUTE FUNCTION eac.requests_guard();

-- The condition is false only when what was received is unchanged (every
-- column of version 1's table, by name: an engine's own columns have their
-- own trigger, 0004-dv.sql, and a column added later needs one too —
-- test_what_was_received_never_changes in tests/unit/db/test_requests.c
-- tries every column of the table as it is and fails otherwise; a BEFORE
-- trigger that rewrote a received column would also escape both), an
-- acknowledgement is set at most once, and the row either keeps
-- its state and decision or moves received -> validated, or validated ->
-- issued with its decision unchanged. The one rule left, that an issued
-- request has its certificate, is checked per statement below. Rejections
-- and everything else go through the function.
CREATE TRIGGER requests_guard_update BEFORE UPDATE ON eac.requests FOR EACH ROW
	WHEN (NOT (
		ROW(NEW.id, NEW.kind, NEW.channel, NEW.authority_id, NEW.raw, NEW.raw_hash, NEW.holder_chr,
		    NEW.outer_car, NEW.received_at, NEW.deadline)
		IS NOT DISTINCT FROM
		ROW(OLD.id, OLD.kind, OLD.channel, OLD.authority_id, OLD.raw, OLD.raw_hash, OLD.holder_chr,
		    OLD.outer_car, OLD.received_at, OLD.deadline)
		AND (OLD.acknowledged_at IS NULL OR NEW.acknowledged_at IS NOT DISTINCT FROM OLD.acknowledged_at)
		AND ((NEW.state IS NOT DISTINCT FROM OLD.state
		      AND ROW(NEW.rule_id, NEW.message, NEW.decided_by, NEW.decided_at)
		          IS NOT DISTINCT FROM ROW(OLD.rule_id, OLD.message, OLD.decided_by, OLD.decided_at))
		     OR (OLD.state = 'received' AND NEW.state = 'validated')
		     OR (OLD.state = 'validated' AND NEW.state = 'issued'
		         AND ROW(NEW.decided_by, NEW.decided_at) IS NOT DISTINCT FROM ROW(OLD.decided_by, OLD.decided_at)))))
	EXECUTE FUNCTION eac.requests_guard();

CREATE FUNCTION eac.requests_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO eac.pending_requests (request_id, deadline) SELECT n.id, n.deadline FROM new_rows n;
	RETURN NULL;
END $$;

CREATE FUNCTION eac.requests_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	x bigint;
BEGIN
	-- version 1's rule, for the rows the guard's condition let through
	SELECT n.id INTO x FROM new_rows n JOIN old_rows o ON o.id = n.id
	WHERE n.state = 'issued' AND o.state <> 'issued'
	  AND NOT EXISTS (SELECT 1 FROM eac.certificates c WHERE c.request_id = n.id)
	ORDER BY n.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('request %s: issued only by recording its certificate', x);
	END IF;
	-- issued and rejected are final: the request leaves the queue
	DELETE FROM eac.pending_requests
	WHERE request_id = ANY (ARRAY(SELECT n.id FROM new_rows n WHERE n.state IN ('issued', 'rejected')));
	RETURN NULL;
END $$;

-- (names sort before requests_audit_*: the rule is checked before the events)
CREATE TRIGGER requests_after_insert AFTER INSERT ON eac.requests
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.requests_after_insert();
CREATE TRIGGER requests_after_update AFTER UPDATE ON eac.requests
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION eac.requests_after_update();

-- ---------------------------------------------------------------------------
-- the result (protocol step 3): checked per statement when the row
-- repeats its intent's columns
--
-- Version 1's guard filled an issued certificate's columns from its intent,
-- row by row. The engines' INSERT now carries them (joined from the
-- intent), and eac.certificates_admit() checks every issued row of the
-- statement: its intent is open, its body is the intent's, the signing key
-- is not compromised (CP-4.5b), and each column is the intent's. A row that
-- names only its intent (or leaves any of those columns empty), and every
-- imported certificate, still meets the version 1 function, which fills
-- and checks as before.

DROP TRIGGER certificates_guard ON eac.certificates;
CREATE TRIGGER certificates_guard BEFORE INSERT ON eac.certificates FOR EACH ROW
	WHEN (NEW.issuance_id IS NULL OR NEW.source IS NULL OR NEW.issuer_id IS NULL OR NEW.kind IS NULL
	      OR NEW.chr IS NULL OR NEW.car IS NULL OR NEW.chat IS NULL OR NEW.effective IS NULL
	      OR NEW.expiry IS NULL OR NEW.holder_key_hash IS NULL OR NEW.der_hash IS NULL
	      OR NEW.issued_at IS NULL OR NEW.distribute_by IS NULL)
	EXECUTE FUNCTION eac.certificates_guard();

CREATE FUNCTION eac.certificates_admit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	iids bigint[];
	x record;
BEGIN
	-- Every intent and key is read by its primary key (= ANY of an array:
	-- index probes; joined to the transition table, the planner scans all
	-- intents, ≈ 1 ms per statement at a few thousand of them). The intents,
	-- then their keys, are locked FOR SHARE in id order as version 1 did
	-- per row: an abandonment or a compromise waits for this statement's
	-- transaction, or is seen by it.
	iids := ARRAY(SELECT n.issuance_id FROM new_rows n WHERE n.issuance_id IS NOT NULL);
	PERFORM 1 FROM eac.issuances i WHERE i.id = ANY (iids) ORDER BY i.id FOR SHARE;
	SELECT n.issuance_id, i.id AS iid, i.abandoned_at, i.abandon_reason, b.body, i.tbs, i.tbs_hash INTO x
	FROM new_rows n LEFT JOIN (SELECT * FROM eac.issuances WHERE id = ANY (iids)) i ON i.id = n.issuance_id,
	     LATERAL (SELECT eac.cv_cert_body(n.der) AS body,
			     ROW(n.source, n.issuer_id, n.kind, n.chr, n.car, n.chat, n.effective, n.expiry,
				 n.holder_key_hash, n.request_id, n.distribute_by)
			     IS DISTINCT FROM
			     ROW('issued', i.issuer_id, i.kind, i.chr, i.car, i.chat, i.effective, i.expiry,
				 i.holder_key_hash, i.request_id, n.issued_at + i.distribute_within) AS columns_differ) b
	WHERE n.issuance_id IS NOT NULL
	  AND (i.id IS NULL OR i.abandoned_at IS NOT NULL OR b.body <> i.tbs OR b.columns_differ)
	ORDER BY n.id LIMIT 1;
	IF FOUND THEN
		IF x.iid IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA003', MESSAGE = format('issuance %s does not exist', x.issuance_id);
		END IF;
		IF x.abandoned_at IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'EA002',
				MESSAGE = format('issuance %s was abandoned (%s); its certificate is refused', x.iid, x.abandon_reason);
		END IF;
		IF x.body <> x.tbs THEN
			RAISE EXCEPTION USING ERRCODE = 'EA006',
				MESSAGE = format('issuance %s: the certificate body (sha256 %s) differs from the intent''s (sha256 %s)',
					x.iid, encode(sha256(x.body), 'hex'), encode(x.tbs_hash, 'hex'));
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'EA003',
			MESSAGE = format('issuance %s: the certificate''s columns differ from its intent''s', x.iid);
	END IF;
	-- CP-4.5b: no certificate of a key marked compromised since its intent
	PERFORM 1 FROM eac.keys k
	WHERE k.id = ANY (ARRAY(SELECT i.signing_key_id FROM eac.issuances i WHERE i.id = ANY (iids)))
	ORDER BY k.id FOR SHARE;
	SELECT i.id, i.signing_key_id INTO x
	FROM eac.issuances i JOIN eac.keys k ON k.id = i.signing_key_id
	WHERE i.id = ANY (iids) AND k.state = 'compromised' ORDER BY i.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'EA002',
			MESSAGE = format('issuance %s: key %s is compromised; the certificate is refused (CP-4.5b)',
				x.id, x.signing_key_id);
	END IF;
	RETURN NULL;
END $$;

-- (sorts before certificates_after: checked before the side effects)
CREATE TRIGGER certificates_admit AFTER INSERT ON eac.certificates
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.certificates_admit();

GRANT SELECT ON eac.pending_requests TO eac_service, eac_auditor;
GRANT INSERT (source, request_id, der_hash, distribute_by) ON eac.certificates TO eac_service;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA eac FROM PUBLIC;
