/* SPDX-License-Identifier: Apache-2.0 */
/* The command-line skeleton both engines share. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/internal.h"

void eng_set_exit(eng *e, int status)
{
	e->exit_status = status;
}

static void usage(FILE *f, const char *prog, const char *flavour, const char *description,
		  const eng_command *cmds)
{
	char env[32];
	snprintf(env, sizeof(env), "EAC_%s_CONFIG", strcmp(flavour, "cvca") == 0 ? "CVCA" : "DV");
	fprintf(f,
		"usage: %s [-c CONFIG] [--json] [--pin-fd N] [--operator NAME] COMMAND ...\n\n%s\n"
		"CONFIG defaults to $%s, else /etc/eac/%s.json. The token PIN comes from\n"
		"--pin-fd N (an open descriptor), else the configuration's pin_file (mode 0600),\n"
		"else a prompt without echo; never from the command line.\n\nCommands:\n",
		prog, description, env, flavour);
	for (const eng_command *c = cmds; c->name; c++)
		fprintf(f, "  %s %s\n      %s\n", c->name, c->usage, c->help);
	fprintf(f, "\nExit status: 0 success; 1 refused by the policy or verification failed;\n"
		   "2 malformed input or usage; 3 token, database or system failure.\n"
		   "status: 0 all well, 1 warnings, 2 a policy deadline is missed.\n");
}

int eng_main(int argc, char **argv, const char *prog, const char *flavour,
	     const char *description, const eng_command *cmds)
{
	eng_opts o = { .prog = prog, .flavour = flavour };
	const eng_command *cmd = NULL;
	int help = 0, i;
	eng *e = NULL;
	eac_err r;

	/* a PIN may be read into this process: no core dumps, no ptrace */
	if ((r = eac_harden_process()) != EAC_OK)
		return eac_report(prog, r);
	if ((i = eng_parse_global(argc, argv, &o, &help)) < 0) {
		usage(help ? stdout : stderr, prog, flavour, description, cmds);
		return help ? 0 : EAC_EXIT_INPUT;
	}
	for (const eng_command *c = cmds; c->name && !cmd; c++) {
		const char *sp = strchr(c->name, ' ');
		if (sp == NULL) {
			if (strcmp(argv[i], c->name) == 0)
				cmd = c;
		} else if (i + 1 < argc && strlen(argv[i]) == (size_t)(sp - c->name) &&
			   strncmp(argv[i], c->name, (size_t)(sp - c->name)) == 0 &&
			   strcmp(argv[i + 1], sp + 1) == 0) {
			cmd = c;
			i++;
		}
	}
	if (cmd == NULL) {
		fprintf(stderr, "%s: unknown command '%s' (see --help)\n", prog, argv[i]);
		return EAC_EXIT_INPUT;
	}
	for (int k = i + 1; k < argc; k++)
		if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
			printf("usage: %s %s %s\n  %s\n", prog, cmd->name, cmd->usage, cmd->help);
			return 0;
		}
	if ((r = eng_open(&o, &e)) != EAC_OK)
		return eac_report(prog, r);
	r = cmd->fn(e, argc - i, argv + i);
	int status = e->exit_status;
	eng_close(e);
	if (r != EAC_OK)
		return eac_report(prog, r);
	return status;
}
