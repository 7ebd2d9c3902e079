-- SPDX-License-Identifier: Apache-2.0
--
-- Schema version 2 (both engines). The authority's own CVCA and link
-- certificates are a handful, the DV and IS certificates beside them may
-- number millions: status, export and rollover read the former through
-- this partial index, never by scanning the latter (measured by make bench
-- with 1,000,000 certificates, docs/PERFORMANCE.md).
CREATE INDEX certificates_ca_ix ON eac.certificates (issuer_id, kind) WHERE kind IN ('cvca', 'link');
