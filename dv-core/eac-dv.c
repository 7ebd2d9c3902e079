/* SPDX-License-Identifier: Apache-2.0 */
/* eac-dv — the DV engine's command line. docs/CLI.md, eac-dv(1). */

#include "dv-core/dv.h"

const eng_command dv_commands[] = {
	{ "init", dv_cmd_init,
	  "--mnemonic M (--curve NAME | --rsa-bits N | --key URI) [--alg ALG] --officer NAME...",
	  "DV identity and first key, generated in the DV token (CP-3.2.4)" },
	{ "trust", dv_cmd_trust, "FILE...",
	  "import national and foreign CVCA and link certificates, each verified" },
	{ "request", dv_cmd_request, "--to CAR [--rekey] --out FILE [--officer NAME]...",
	  "certificate request to a CVCA; --rekey: new key, authenticated by the current one "
	  "(CP-4.7c)" },
	{ "import", dv_cmd_import, "FILE",
	  "a DV certificate returned by a CVCA: matched to its request, chain verified" },
	{ "certs", dv_cmd_certs, "", "list the CVCA, link and DV certificates held" },
	{ "is add", dv_cmd_is_add, "NAME --org ORG [--mnemonic M]",
	  "register an inspection system (CP-3.2.4)" },
	{ "is mark", dv_cmd_is_mark, "NAME operational|stolen|lost|retired [--reason TEXT]",
	  "change an inspection system's status (CP-3.3.2)" },
	{ "is list", dv_cmd_is_list, "", "list inspection systems" },
	{ "is receive", dv_cmd_is_receive, "FILE",
	  "record and acknowledge an IS request (24 h, CP-5.4.2)" },
	{ "is approve", dv_cmd_is_approve, "ID [--validity DAYS] [--rights LIST] [--out FILE]",
	  "check an IS request against the policy and issue its certificate" },
	{ "is issue-batch", dv_cmd_is_issue_batch,
	  "DIR --out-dir DIR [--workers N] [--validity DAYS] [--rights LIST]",
	  "receive and approve every request in DIR (fleet renewal)" },
	{ "status", dv_cmd_status, "",
	  "DV certificates per CVCA, deadlines; exit 0 ok, 1 warnings, 2 deadline missed" },
	{ "audit verify", eng_cmd_audit_verify,
	  "[--expect-seq N --expect-hash HEX | --transcript FILE]", "check the audit hash chain" },
	{ "recover", eng_cmd_recover, "", "complete or abandon issuances a crash interrupted" },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return eng_main(argc, argv, "eac-dv", "dv",
			"The Document Verifier engine of the EAC PKI appliance.", dv_commands);
}
