/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Parsers for values people type (meshprovctl arguments) that the import shares. */

#include "provdata.h"

/* "FIRST-LAST", each decimal or 0x hex: a node address pool. -EINVAL if malformed (the range rules are the
 * store's). */
int parse_pool(const char *s, uint32_t *ret_first, uint32_t *ret_last);

/* A UID typed as hex, "0x" optional, blanks and ':' allowed between byte pairs ("0a:1b:2c", "0x0a1b2c").
 * 1..PROV_UID_MAX bytes. -EINVAL / -EMSGSIZE. */
int parse_uid(const char *s, uint8_t ret[static PROV_UID_MAX], size_t *ret_len);

/* Hex of exactly n bytes ("0x" optional, blanks and ':' allowed between pairs). -EINVAL if not hex,
 * -EMSGSIZE if the length differs (then *ret_len, if given, holds the length found, up to 255). */
int parse_hex_exact(const char *s, uint8_t *buf, size_t n, size_t *ret_len);

/* A user item as typed: "ID=int:N", "ID=text:S", "ID=bytes:HEX", "ID=bool:yes". ID 128..255. */
int parse_user_item(const char *s, ProvUserItem *ret);

/* "128=int:5"-style text for a user item (inverse of parse_user_item()); bytes as hex. */
char *format_user_item(const ProvUserItem *item, char *buf, size_t bufsz);
