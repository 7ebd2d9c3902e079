-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 4, the DV's part (after 0004-common.sql): the column the
-- DV adds to a request, the inspection system it came from, is part of
-- what was received. The common guard's condition names only version 1's
-- columns; a statement that sets this one meets the version 1 function
-- (which compares the whole row) whatever else it does.
CREATE TRIGGER requests_guard_update_dv BEFORE UPDATE OF inspection_system_id ON eac.requests
	FOR EACH ROW EXECUTE FUNCTION eac.requests_guard();
