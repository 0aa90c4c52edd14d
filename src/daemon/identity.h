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

void identity_source_init(IdentitySource *src, Store *store, ProvLookup *ret_lookup);
/* Converts what the store resolved into what the engine decides on. Wipes nothing; pure. */
void identity_from_store(const StoreIdentity *si, ProvIdentity *ret);
