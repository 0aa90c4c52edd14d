/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "identity.h"
#include "time-util.h"

void identity_from_store(const StoreIdentity *si, ProvIdentity *ret) {
        memset(ret, 0, sizeof(*ret));
        ret->from_device = si->from_device;
        ret->enabled = si->vendor_enabled && (!si->from_device || si->device_enabled);
        ret->method = si->method;
        snprintf(ret->vendor, sizeof(ret->vendor), "%s", si->vendor);
        snprintf(ret->network, sizeof(ret->network), "%s", si->network.name);
        snprintf(ret->label, sizeof(ret->label), "%s", si->label);
        ret->has_factory_key = si->has_factory_key;
        if (si->has_factory_key)
                memcpy(ret->factory_key, si->factory_key, sizeof(ret->factory_key));
        ret->allow_unsecured = si->network.allow_unsecured;
        ret->profile = si->network.profile;
        ret->has_pool = si->network.has_pool;

        ProvParams *p = &ret->params;
        memcpy(p->enc_key, si->network.enc_key, sizeof(p->enc_key));
        memcpy(p->auth_key, si->network.auth_key, sizeof(p->auth_key));
        p->network_address = si->network.network_address;
        p->channel = si->network.channel;
        p->has_node_address = si->has_node_address;
        p->node_address = si->node_address;
        p->has_role = si->has_role;
        p->role = si->role;
        p->n_user_items = MIN(si->n_user_items, (size_t)PROV_PARAMS_USER_MAX);
        memcpy(p->user_items, si->user_items, p->n_user_items * sizeof(ProvUserItem));
}

static int lookup_identity(void *userdata, const uint8_t *uid, size_t uid_len, ProvIdentity *ret) {
        IdentitySource *src = userdata;
        int r;

        src->lookups++;
        r = store_resolve(src->store, uid, uid_len, &src->scratch);
        if (r < 0) {
                if (r != -ENOENT)
                        src->failures++;
                explicit_bzero_safe(&src->scratch, sizeof(src->scratch));
                return r;
        }
        identity_from_store(&src->scratch, ret);
        explicit_bzero_safe(&src->scratch, sizeof(src->scratch));
        return 0;
}

static int lookup_allocate(void *userdata, const ProvIdentity *identity, const uint8_t *uid, size_t uid_len,
                           uint32_t *ret) {
        IdentitySource *src = userdata;
        int r;

        (void)store_busy_short(src->store, STORE_PATH_BUSY);
        r = store_address_allocate(src->store, identity->network, uid, uid_len, now(CLOCK_REALTIME), ret);
        (void)store_busy_restore(src->store);
        return r;
}

void identity_source_init(IdentitySource *src, Store *store, ProvLookup *ret_lookup) {
        memset(src, 0, sizeof(*src));
        src->store = store;
        *ret_lookup = (ProvLookup){
                .identity = lookup_identity,
                .allocate_address = lookup_allocate,
                .userdata = src,
        };
}
