/* SPDX-License-Identifier: Apache-2.0 */
/* eac-cvca — the CVCA engine's command line. docs/CLI.md, eac-cvca(1). */

#include <stdio.h>
#include <string.h>

#include "ca-core/ca.h"

const ca_command ca_commands[] = {
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
	{ "audit verify", ca_cmd_audit_verify,
	  "[--expect-seq N --expect-hash HEX | --transcript FILE]", "check the audit hash chain" },
	{ "recover", ca_cmd_recover, "", "complete or abandon issuances a crash interrupted" },
	{ NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: eac-cvca [-c CONFIG] [--json] [--pin-fd N] [--operator NAME] COMMAND ...\n"
		   "\nThe CVCA (Country Verifying CA) engine of the EAC PKI appliance.\n"
		   "CONFIG defaults to $EAC_CVCA_CONFIG, else /etc/eac/cvca.json. The token PIN comes\n"
		   "from --pin-fd, else the configuration's pin_file, else a prompt.\n\nCommands:\n");
	for (const ca_command *c = ca_commands; c->name; c++)
		fprintf(f, "  %s %s\n      %s\n", c->name, c->usage, c->help);
	fprintf(f, "\nExit status: 0 success; 1 refused by the policy or verification failed;\n"
		   "2 malformed input or usage; 3 token, database or system failure.\n"
		   "status: 0 all well, 1 warnings, 2 a policy deadline is missed.\n");
}

int main(int argc, char **argv)
{
	eng_opts o = { .prog = "eac-cvca", .flavour = "cvca" };
	int help = 0, i;
	const ca_command *cmd = NULL;
	eng *e = NULL;
	eac_err r;

	/* the PIN may be read into this process: no core dumps, no ptrace */
	if (eac_harden_process() != EAC_OK)
		return eac_report(o.prog, EAC_ERR_INTERNAL);
	if ((i = eng_parse_global(argc, argv, &o, &help)) < 0) {
		usage(help ? stdout : stderr);
		return help ? 0 : EAC_EXIT_INPUT;
	}
	for (const ca_command *c = ca_commands; c->name && !cmd; c++) {
		size_t n = strlen(c->name);
		const char *sp = strchr(c->name, ' ');
		if (sp == NULL) {
			if (strcmp(argv[i], c->name) == 0)
				cmd = c;
		} else if (i + 1 < argc && strncmp(argv[i], c->name, (size_t)(sp - c->name)) == 0 &&
			   argv[i][sp - c->name] == '\0' && strcmp(argv[i + 1], sp + 1) == 0) {
			cmd = c;
			i++;
		}
		(void)n;
	}
	if (cmd == NULL) {
		fprintf(stderr, "eac-cvca: unknown command '%s' (see --help)\n", argv[i]);
		return EAC_EXIT_INPUT;
	}
	for (int k = i + 1; k < argc; k++)
		if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
			printf("usage: eac-cvca %s %s\n  %s\n", cmd->name, cmd->usage, cmd->help);
			return 0;
		}
	if ((r = eng_open(&o, &e)) != EAC_OK)
		return eac_report(o.prog, r);
	ca_status_verdict = 0;
	r = cmd->fn(e, argc - i, argv + i);
	eng_close(e);
	if (r != EAC_OK)
		return eac_report(o.prog, r);
	return cmd->fn == ca_cmd_status ? ca_status_verdict : 0;
}
