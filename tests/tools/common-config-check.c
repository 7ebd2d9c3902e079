/* SPDX-License-Identifier: Apache-2.0 */
/* config-check ENGINE FILE: load an engine configuration with the appliance's
 * strict loader; print its fields, or the one-line error (exit 2). */

#include <stdio.h>

#include "common/common.h"

int main(int argc, char **argv)
{
	eac_config c;
	eac_err r;

	if (argc != 3) {
		fprintf(stderr, "usage: config-check cvca|dv FILE\n");
		return 2;
	}
	if ((r = eac_config_load(argv[2], argv[1], &c)) != EAC_OK)
		return eac_report("config-check", r);
	printf("module=%s\nuri=%s\npin_file=%s\nconninfo=%s\nowner_conninfo=%s\npolicy=%s\ndata_dir=%s\n",
	       c.token_module, c.token_uri, c.token_pin_file ? c.token_pin_file : "",
	       c.db_conninfo, c.db_owner_conninfo ? c.db_owner_conninfo : "", c.policy_path,
	       c.data_dir);
	eac_config_free(&c);
	return 0;
}
