/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The seam between meshprovctl's command handlers (and the YAML import) and where the data lives. Handlers
 * call only these operations, never the store directly, so the same handlers can later run against a daemon
 * through the MQTT management API (a "remote" backend) as well as on the SQLite file ("local", below).
 *
 * The operations mirror the store's domain verbs (src/store/store.h) and use its structs. Rules a remote
 * backend will have to follow too: getters may return keys zeroed (a remote daemon never sends keys), so
 * handlers update with STORE_KEY_KEEP unless the user gave a new key; puts report StoreError for a person.
 */

#include "macro.h"
#include "mgmtapi.h"
#include "store.h"

typedef struct CtlBackend CtlBackend;

/* What a failed commit() (or a dry-run rollback()) refused, for backends that apply a group of puts only
 * then (the remote backend: the daemon applies the whole batch at commit): the network's name or the
 * device's label ("" if unknown) and the StoreError of its field. Cleared by begin(). */
typedef struct CtlCommitError {
        bool is_network;
        char name[NAME_MAX_LEN + 1];
        StoreError error;
} CtlCommitError;

struct CtlBackend {
        const char *kind; /* "local", "remote" (ctl-backend-remote.h) */
        void *data;
        CtlCommitError commit_error;

        /* All or nothing for a group of puts (import). */
        int (*begin)(CtlBackend *b);
        int (*commit)(CtlBackend *b);
        int (*rollback)(CtlBackend *b);

        int (*network_put)(CtlBackend *b, const StoreNetwork *n, StorePutMode mode, StoreError *err);
        int (*network_get)(CtlBackend *b, const char *name, StoreNetwork *ret);
        int (*network_list)(CtlBackend *b, StoreNetworkCb cb, void *userdata);
        int (*network_delete)(CtlBackend *b, const char *name, StoreError *err);

        int (*vendor_put)(CtlBackend *b, const StoreVendor *v, StorePutMode mode, StoreError *err);
        int (*vendor_get)(CtlBackend *b, const char *name, StoreVendor *ret);
        int (*vendor_list)(CtlBackend *b, StoreVendorCb cb, void *userdata);
        int (*vendor_delete)(CtlBackend *b, const char *name, StoreError *err);
        /* The per-device factory key for factory programming: derived from the vendor's master key, or the
         * vendor's shared factory key. ret_derived tells which. -ENOKEY if the vendor has no key. */
        int (*vendor_device_key)(CtlBackend *b, const char *vendor, const uint8_t *uid, size_t uid_len,
                                 uint8_t ret_key[static PROV_FACTORY_KEY_SIZE], bool *ret_derived);

        int (*device_put)(CtlBackend *b, const StoreDevice *d, StorePutMode mode, StoreError *err);
        int (*device_get)(CtlBackend *b, const uint8_t *uid, size_t uid_len, StoreDevice *ret);
        int (*device_delete)(CtlBackend *b, const uint8_t *uid, size_t uid_len, StoreError *err);
        int (*device_set_enabled)(CtlBackend *b, const uint8_t *uid, size_t uid_len, bool enabled);
        int (*device_list)(CtlBackend *b, const StoreDeviceFilter *f, StoreDeviceCb cb, void *userdata);
        int (*device_count)(CtlBackend *b, const StoreDeviceFilter *f, uint64_t *ret);

        int (*audit_query)(CtlBackend *b, const StoreAuditFilter *f, StoreAuditCb cb, void *userdata);

        void (*free)(CtlBackend *b);
};

CtlBackend *ctl_backend_free(CtlBackend *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(CtlBackend *, ctl_backend_free);

/* A backend on an open store. With take_ownership the store is freed with the backend. Puts are stamped with
 * the real-time clock. */
int ctl_backend_local_new(Store *s, bool take_ownership, CtlBackend **ret);
/* Audit statistics of a local backend, counted by SQLite, in the management API's shape (so that local and
 * remote `stats` print alike); no live counters. ret->routes is allocated: free() it. */
int ctl_backend_local_stats(CtlBackend *b, usec_t since, usec_t until, MgmtStats *ret);
