/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Text helpers for meshprovctl output. */

#include "macro.h"

/* Length (1..4) of the valid UTF-8 sequence at p (n bytes available), or 0 if there is none: overlong forms,
 * surrogates and code points above U+10FFFF are invalid. */
size_t utf8_sequence_len(const uint8_t *p, size_t n);
bool utf8_valid(const void *p, size_t n);

/* Copies s (n bytes) for display on a terminal: valid, printable UTF-8 stays, control characters (C0, DEL,
 * C1) and invalid bytes become \xNN. Allocates; NULL on OOM. *ret_width (optional) receives the number of
 * code points, which is what column alignment uses. */
char *terminal_escape(const void *s, size_t n, size_t *ret_width);
