/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A set of byte strings, each with a small string value (the import uses it to find duplicate node names and
 * UIDs). Keyed SipHash with a random key, open addressing, grows at half load. */

#include "macro.h"

typedef struct BytesMap BytesMap;

BytesMap *bytes_map_new(void);
BytesMap *bytes_map_free(BytesMap *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(BytesMap *, bytes_map_free);

/* Adds key (copied) with value (copied; NULL allowed). 0 if added; -EEXIST if the key is already there, then
 * *ret_existing (optional) points at the value stored first; -ENOMEM. */
int bytes_map_add(BytesMap *m, const void *key, size_t len, const char *value, const char **ret_existing);
bool bytes_map_contains(const BytesMap *m, const void *key, size_t len);
/* The value stored with key (NULL if it was added without one); -ENOENT if the key is not there. */
int bytes_map_get(const BytesMap *m, const void *key, size_t len, const char **ret_value);
size_t bytes_map_size(const BytesMap *m);
