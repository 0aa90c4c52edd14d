/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"
#include "time-util.h"

/* Strict number parsing: the whole string must be a number (decimal, or hex with "0x"), no sign for the
 * unsigned forms, no surrounding spaces, and it must fit. -EINVAL / -ERANGE otherwise. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
int safe_atou16(const char *s, uint16_t *ret);
int safe_atou8(const char *s, uint8_t *ret);
int safe_atoi64(const char *s, int64_t *ret);
int safe_atoi(const char *s, int *ret);

/* yes/no, true/false, on/off, 1/0. */
int parse_boolean(const char *s);

/* "30", "30s", "500ms", "5min", "2h", "1d" (a bare number is seconds); combinations like "1min 30s". */
int parse_sec(const char *s, usec_t *ret);
