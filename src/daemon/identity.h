/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The engine's lookup interface implemented on the store. */

#include "prov-engine.h"
#include "store.h"

typedef struct IdentitySource {
        Store *store;
        StoreIdentity scratch; /* large; wiped after each lookup */
        uint64_t lookups, failures;
} IdentitySource;

/* Writes on the provisioning path (a pool address, audit rows) wait at most this long for another writer's
 * lock: the START then goes unanswered and the node retries, the audit rows are written later. */

#define STORE_PATH_BUSY (100 * USEC_PER_MSEC)

void identity_source_init(IdentitySource *src, Store *store, ProvLookup *ret_lookup);
/* Converts what the store resolved into what the engine decides on. Wipes nothing; pure. */
void identity_from_store(const StoreIdentity *si, ProvIdentity *ret);
