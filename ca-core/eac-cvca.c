/* SPDX-License-Identifier: Apache-2.0 */
/* eac-cvca — the CVCA engine's command line. docs/CLI.md, eac-cvca(1). */

#include <stdio.h>
#include <string.h>

#include "ca-core/ca.h"

const eng_command ca_commands[] = {
	{ "init", ca_cmd_init,
	  "--curve NAME|--rsa-bits N [--mnemonic M] [--alg ALG] [--validity DAYS] [--rights LIST] "
	  "--officer NAME --officer NAME... [--transcript FILE]",
	  "initial key ceremony: CVCA key in the token, self-signed certificate (CP-4.2.1)" },
	{ "rollover", ca_cmd_rollover,
	  "[--curve NAME|--rsa-bits N [--allow-curve-change]] [--alg ALG] [--validity DAYS] "
	  "[--rights LIST] --officer NAME... [--transcript FILE]",
	  "link ceremony: new key, link and self-signed certificates, verified (CP-5.4b)" },
	{ "publish", ca_cmd_publish, "CHR [--to RECIPIENT] [--channel HOW]",
	  "record that a CVCA or link certificate was distributed (CP-5.4a, CP-5.4b)" },
	{ "export", ca_cmd_export, "--out-dir DIR",
	  "write every CVCA and link certificate and fingerprints.txt" },
	{ "receive", ca_cmd_receive, "FILE [--channel domestic|foreign]",
	  "record and acknowledge a DV certificate request (CP-4.2.2)" },
	{ "requests", ca_cmd_requests, "[--pending]", "list DV requests" },
	{ "approve", ca_cmd_approve,
	  "ID [--validity DAYS] [--rights LIST] [--reason expiring|...] [--out FILE]",
	  "check a DV request against the policy and issue its certificate" },
	{ "reject", ca_cmd_reject, "ID --reason TEXT", "reject a DV request" },
	{ "countersign", ca_cmd_countersign, "FILE --out FILE",
	  "outer-sign a domestic DV's first request to a foreign CVCA (CP-1.4a)" },
	{ "dv register", ca_cmd_dv_register,
	  "--country CC --mnemonic M --name NAME [--org ORG]... [--conformity-expires DATE]",
	  "register a domestic or foreign DV (CP-3.2.3, CP-1.3a)" },
	{ "dv list", ca_cmd_dv_list, "", "list registered DVs" },
	{ "dv suspend", ca_cmd_dv_suspend, "DV --reason TEXT",
	  "suspend a DV: its requests are refused (CP-3.3.1)" },
	{ "dv reactivate", ca_cmd_dv_reactivate, "DV --reason TEXT", "reactivate a DV" },
	{ "foreign import", ca_cmd_foreign_import, "FILE...",
	  "register foreign CVCA (and link) certificates (CP-3.2.2)" },
	{ "foreign list", ca_cmd_foreign_list, "", "list registered foreign CVCAs" },
	{ "status", ca_cmd_status, "",
	  "deadlines, distribution, rollover; exit 0 ok, 1 warnings, 2 deadline missed" },
	{ "audit verify", eng_cmd_audit_verify,
	  "[--expect-seq N --expect-hash HEX | --transcript FILE]", "check the audit hash chain" },
	{ "recover", eng_cmd_recover, "", "complete or abandon issuances a crash interrupted" },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	return eng_main(argc, argv, "eac-cvca", "cvca",
			"The CVCA (Country Verifying CA) engine of the EAC PKI appliance.",
			ca_commands);
}
