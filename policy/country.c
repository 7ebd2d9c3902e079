/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ISO 3166-1 alpha-2: the officially assigned codes, and only those.
 *
 * The list below is ISO 3166-1 as maintained by the ISO 3166 Maintenance
 * Agency, current as of ISO/TC 46 N1108 (2023-04-05): 249 codes, unchanged
 * since SS (South Sudan) was assigned on 2011-08-09. It was checked on
 * 2026-11 against two independent copies on the build machine (Debian
 * tzdata 2025b iso3166.tab and iso-codes 4.15.0 iso_3166-1.json), which
 * agree with it code for code. User-assigned codes (AA, QM..QZ, XA..XZ,
 * ZZ — test PKIs use "UT", "XX", "ZZ") and exceptionally reserved codes
 * (EU, UK, EL, ...) are deliberately absent: a CHR names the holder's
 * *country* (CP-3.1b), so they are refused wherever a country is required.
 */

#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* Sorted, so a lookup is a binary search. */
static const char codes[][3] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW",
	"AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
	"BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG",
	"CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ",
	"DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI",
	"FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
	"GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR",
	"HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
	"JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA",
	"LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
	"MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU",
	"MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
	"NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR",
	"PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
	"SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
	"SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
	"TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
	"VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

_Static_assert(sizeof(codes) / sizeof(codes[0]) == 249, "ISO 3166-1 has 249 alpha-2 codes");

static int cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int pol_country_valid(const char *cc)
{
	if (cc == NULL || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2] != '\0')
		return 0;
	return bsearch(cc, codes, sizeof(codes) / sizeof(codes[0]), sizeof(codes[0]), cmp) != NULL;
}
