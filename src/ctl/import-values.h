/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Value conversion for wm-provisioning YAML, following the reference server (convert_to_bytes /
 * convert_to_int) on top of YAML 1.1 typing (ynode_type()):
 *
 * bytes:  a string starting with 0x/0X is hex: every "0x"/"0X" is removed, then pairs of hex digits are read
 *         with blanks allowed between pairs ("0x00 0x01 0X02" -> 00 01 02, "0x000102" -> 00 01 02);
 *         any other string is its UTF-8 bytes; an integer becomes its minimal big-endian bytes (so a plain
 *         0x000102 is the integer 0x102 -> 01 02, and 0 -> no bytes); !!binary is base64. Negative integers,
 *         floats, booleans, null, dates, lists and mappings are refused.
 * int:    an integer; a string is read like Python's int(s, 0) (0x/0o/0b prefixes, underscores).
 * user_specific values: int -> int, string -> text, bool -> bool, !!binary -> bytes; floats, null, dates,
 *         lists and mappings are refused.
 *
 * On failure a message for a person is written to msg (never containing the value itself, which may be a
 * key) and -EINVAL / -ERANGE / -EMSGSIZE returned. */

#include "provdata.h"
#include "yaml-tree.h"

/* Bytes values longer than this are refused before any field-specific length check. */
#define YVALUE_BYTES_MAX 256u

int yvalue_bytes(const YNode *n, uint8_t *buf, size_t bufsz, size_t *ret_len, char *msg, size_t msgsz);
int yvalue_int(const YNode *n, int64_t *ret, char *msg, size_t msgsz);
/* An int in [min, max]. */
int yvalue_int_range(const YNode *n, int64_t min, int64_t max, int64_t *ret, char *msg, size_t msgsz);
int yvalue_bool(const YNode *n, bool *ret, char *msg, size_t msgsz);
/* A name: any string or integer scalar, as written. *ret points into the node. */
int yvalue_name(const YNode *n, const char **ret, char *msg, size_t msgsz);
/* One user_specific value (id is set by the caller). */
int yvalue_user_item(const YNode *n, ProvUserItem *ret, char *msg, size_t msgsz);

/* Helpers, exposed for tests: the reference's "0x" hex rule on a string, Python int(s, 0), base64. */
int parse_hex_string(const char *s, size_t len, uint8_t *buf, size_t bufsz, size_t *ret_len);
int parse_python_int(const char *s, size_t len, int64_t *ret);
int parse_base64(const char *s, size_t len, uint8_t *buf, size_t bufsz, size_t *ret_len);
