/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* SipHash-2-4 (Aumasson & Bernstein): a keyed hash for tables indexed by values that peers choose, so that a
 * peer cannot force collisions. Written from the published algorithm description. */

#include "macro.h"

uint64_t siphash24(const void *in, size_t inlen, const uint8_t key[static 16]);
