/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The engine's lookup interface implemented on the store. */

#include "prov-engine.h"
#include "store.h"

typedef struct IdentitySource {
        Store *store;
        StoreIdentity scratch; /* large; wiped after each lookup */
        uint64_t lookups, failures;
        /* A pool address is allocated with a write that waits at most STORE_PATH_BUSY for another writer
         * (the START then goes unanswered and the node retries); busy_timeout is restored afterwards. */
        usec_t busy_timeout;
} IdentitySource;

#define STORE_PATH_BUSY (100 * USEC_PER_MSEC)

void identity_source_init(IdentitySource *src, Store *store, ProvLookup *ret_lookup);
/* Converts what the store resolved into what the engine decides on. Wipes nothing; pure. */
void identity_from_store(const StoreIdentity *si, ProvIdentity *ret);
