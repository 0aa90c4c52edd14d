/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <time.h>

#include "ctl-backend.h"
#include "provcrypto.h"

typedef struct Local {
        Store *store;
        bool owned;
} Local;

static Store *S(CtlBackend *b) {
        return ((Local *)b->data)->store;
}

static usec_t now_realtime(void) {
        return now(CLOCK_REALTIME);
}

static int local_begin(CtlBackend *b) {
        return store_begin(S(b));
}
static int local_commit(CtlBackend *b) {
        return store_commit(S(b));
}
static int local_rollback(CtlBackend *b) {
        return store_rollback(S(b));
}

static int local_network_put(CtlBackend *b, const StoreNetwork *n, StorePutMode mode, StoreError *err) {
        return store_network_put(S(b), n, mode, now_realtime(), err);
}
static int local_network_get(CtlBackend *b, const char *name, StoreNetwork *ret) {
        return store_network_get(S(b), name, ret);
}
static int local_network_list(CtlBackend *b, StoreNetworkCb cb, void *userdata) {
        return store_network_list(S(b), cb, userdata);
}
static int local_network_delete(CtlBackend *b, const char *name, StoreError *err) {
        return store_network_delete(S(b), name, err);
}

static int local_vendor_put(CtlBackend *b, const StoreVendor *v, StorePutMode mode, StoreError *err) {
        return store_vendor_put(S(b), v, mode, now_realtime(), err);
}
static int local_vendor_get(CtlBackend *b, const char *name, StoreVendor *ret) {
        return store_vendor_get(S(b), name, ret);
}
static int local_vendor_list(CtlBackend *b, StoreVendorCb cb, void *userdata) {
        return store_vendor_list(S(b), cb, userdata);
}
static int local_vendor_delete(CtlBackend *b, const char *name, StoreError *err) {
        return store_vendor_delete(S(b), name, err);
}

static int local_vendor_device_key(CtlBackend *b, const char *vendor, const uint8_t *uid, size_t uid_len,
                                   uint8_t ret_key[static PROV_FACTORY_KEY_SIZE], bool *ret_derived) {
        StoreVendor v;
        int r;

        r = store_vendor_get(S(b), vendor, &v);
        if (r < 0)
                return r;
        switch (v.key_kind) {
        case STORE_VENDOR_KEY_NONE:
                r = -ENOKEY;
                break;
        case STORE_VENDOR_KEY_FACTORY:
                memcpy(ret_key, v.key, PROV_FACTORY_KEY_SIZE);
                *ret_derived = false;
                r = 0;
                break;
        case STORE_VENDOR_KEY_MASTER:
                r = prov_derive_factory_key(v.key, uid, uid_len, ret_key);
                if (r >= 0)
                        *ret_derived = true;
                break;
        }
        explicit_bzero_safe(&v, sizeof(v));
        return r;
}

static int local_device_put(CtlBackend *b, const StoreDevice *d, StorePutMode mode, StoreError *err) {
        return store_device_put(S(b), d, mode, now_realtime(), err);
}
static int local_device_get(CtlBackend *b, const uint8_t *uid, size_t uid_len, StoreDevice *ret) {
        return store_device_get(S(b), uid, uid_len, ret);
}
static int local_device_delete(CtlBackend *b, const uint8_t *uid, size_t uid_len, StoreError *err) {
        return store_device_delete(S(b), uid, uid_len, err);
}
static int local_device_set_enabled(CtlBackend *b, const uint8_t *uid, size_t uid_len, bool enabled) {
        return store_device_set_enabled(S(b), uid, uid_len, enabled, now_realtime());
}
static int local_device_list(CtlBackend *b, const StoreDeviceFilter *f, StoreDeviceCb cb, void *userdata) {
        return store_device_list(S(b), f, cb, userdata);
}
static int local_device_count(CtlBackend *b, const StoreDeviceFilter *f, uint64_t *ret) {
        return store_device_count(S(b), f, ret);
}

static int local_audit_query(CtlBackend *b, const StoreAuditFilter *f, StoreAuditCb cb, void *userdata) {
        return store_audit_query(S(b), f, cb, userdata);
}

static void local_free(CtlBackend *b) {
        Local *l = b->data;

        if (l && l->owned)
                store_free(l->store);
        free(l);
}

CtlBackend *ctl_backend_free(CtlBackend *b) {
        if (!b)
                return NULL;
        if (b->free)
                b->free(b);
        free(b);
        return NULL;
}

int ctl_backend_local_new(Store *s, bool take_ownership, CtlBackend **ret) {
        CtlBackend *b;
        Local *l;

        if (!s)
                return -EINVAL;
        l = new0(Local, 1);
        if (!l)
                return -ENOMEM;
        b = new0(CtlBackend, 1);
        if (!b) {
                free(l);
                return -ENOMEM;
        }
        *l = (Local){ .store = s, .owned = take_ownership };
        *b = (CtlBackend){
                .kind = "local",
                .data = l,
                .begin = local_begin,
                .commit = local_commit,
                .rollback = local_rollback,
                .network_put = local_network_put,
                .network_get = local_network_get,
                .network_list = local_network_list,
                .network_delete = local_network_delete,
                .vendor_put = local_vendor_put,
                .vendor_get = local_vendor_get,
                .vendor_list = local_vendor_list,
                .vendor_delete = local_vendor_delete,
                .vendor_device_key = local_vendor_device_key,
                .device_put = local_device_put,
                .device_get = local_device_get,
                .device_delete = local_device_delete,
                .device_set_enabled = local_device_set_enabled,
                .device_list = local_device_list,
                .device_count = local_device_count,
                .audit_query = local_audit_query,
                .free = local_free,
        };
        *ret = b;
        return 0;
}

int ctl_backend_local_stats(CtlBackend *b, usec_t since, usec_t until, MgmtStats *ret) {
        if (!b || !streq_ptr(b->kind, "local") || !ret)
                return -EINVAL;
        /* counted by SQLite over the time index: no row comes to us */
        return store_mgmt_stats(S(b), since, until, ret);
}
