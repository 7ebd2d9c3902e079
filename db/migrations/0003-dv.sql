-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 3, the DV's part (after 0003-common.sql): CP-3.3.2 checked
-- once per statement over the new intents instead of once per row, before
-- the common checks (issuances_admit_is < issuances_admit_rows), as in
-- version 1. The inspection systems are locked FOR SHARE as before: a
-- status change waits for the intent, and the intent sees a committed one.

DROP TRIGGER issuances_dv_check ON eac.issuances;
DROP FUNCTION eac.issuances_dv_check();

CREATE FUNCTION eac.issuances_admit_is() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s record;
BEGIN
	PERFORM 1 FROM eac.inspection_systems i
	WHERE i.id IN (SELECT r.inspection_system_id FROM new_rows n JOIN eac.requests r ON r.id = n.request_id)
	ORDER BY i.id FOR SHARE;
	SELECT i.id, i.name, i.status INTO s
	FROM new_rows n JOIN eac.requests r ON r.id = n.request_id
	JOIN eac.inspection_systems i ON i.id = r.inspection_system_id
	WHERE i.status <> 'operational' ORDER BY n.id LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'EA005',
			MESSAGE = format('inspection system %s (%s) is %s; no certificate is issued to it (CP-3.3.2)',
				s.id, s.name, s.status);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER issuances_admit_is AFTER INSERT ON eac.issuances
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eac.issuances_admit_is();

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA eac FROM PUBLIC;
