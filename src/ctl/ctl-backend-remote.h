/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* meshprovctl's remote mode: a CtlBackend on a running meshprovd through its MQTT management API
 * (proto/mgmt.proto), so that the network / vendor / device / import / events commands work unchanged.
 *
 * The MQTT client is src/io/mqtt.c on a private sd-event loop that runs only while a call waits for its
 * answer (a synchronous client, as a command-line tool wants). Each call publishes request/<op> with a
 * request id of its own and waits for the response/<op> carrying that id, at most `timeout` (answers to
 * other clients on the same topic are ignored).
 *
 * What differs from the local backend:
 * - Keys are never read back: getters fill key fields with placeholders that ctl's fingerprint() shows as
 * the fingerprint the daemon sent (ctl_key_placeholder()); puts send key bytes only with *_update SET.
 *   vendor_device_key() is -EOPNOTSUPP (derive keys where the database is).
 * - A transaction (begin .. commit) is a bulk upload: network and device puts are checked locally with the
 *   API's own validation, buffered, and sent in chunks of a staged batch; the daemon applies the whole batch
 *   in one transaction at commit, so a rule that needs the database (an address taken, a missing network)
 *   fails the commit: commit_error then names the item. rollback() aborts the staged batch, or with dry_run
 *   asks the daemon to check the whole batch and roll it back. Reads inside a transaction see the daemon's
 *   committed state, plus networks put earlier in the transaction; device_get() answers from a snapshot of
 *   the daemon's devices taken with a paged list at the first get (an import asks for every node; the
 *   snapshot has no user items). Vendor puts and deletes inside a transaction are -EOPNOTSUPP.
 * - Progress: when standard error is a terminal, the final wait (the daemon applying the batch) is
 * announced; the chunks go out while the import walks the file, so its own progress line counts them. */

#include "ctl-backend.h"
#include "mgmtapi.h"

/* How long a remote command waits for the daemon's answer unless --timeout says otherwise. */
#define REMOTE_TIMEOUT_DEFAULT (10 * USEC_PER_SEC)

typedef struct CtlRemoteOptions {
        const char *host;
        uint16_t port;        /* 0: 1883, 8883 with TLS */
        const char *instance; /* the daemon's [Api] InstanceId */
        bool tls;
        const char *ca_file;   /* NULL: the system's CA store */
        const char *cert_file; /* client certificate */
        const char *key_file;
        const char *username;
        const char *password;
        usec_t timeout; /* per request (0: 10 s); bulk commits get more, scaled with the batch */
} CtlRemoteOptions;

/* Does not connect yet: the first call does. The options' strings must outlive the backend. */
int ctl_backend_remote_new(const CtlRemoteOptions *o, bool dry_run, CtlBackend **ret);
bool ctl_backend_is_remote(const CtlBackend *b);

/* The daemon's status: 1 when the daemon answered. The retained status (meshprov/v1/<id>/status) is read as
 * well: 0 when that is what *ret holds, either at once because it says offline (the daemon's last will, or
 * a clean stop), or because the daemon did not answer within the timeout while it says online (stale: a
 * hung daemon, or one that may not use its topics). -ETIMEDOUT (logged) when neither came. */
int ctl_backend_remote_status(CtlBackend *b, MgmtStatus *ret);
/* Statistics with the daemon's live counters (free with mgmt_response_free()). */
int ctl_backend_remote_stats(CtlBackend *b, usec_t since, usec_t until, MgmtResponse **ret);
/* A live event: e as an audit row (id 0: not in the audit log yet) and live, all the event carries (bearer,
 * the sink's network address, copies and attempt of a START). */
typedef int (*CtlLiveEventCb)(const StoreAuditEvent *e, const MgmtEvent *live, void *userdata);
/* Subscribes to the live events and waits for the broker's SUBACK; the events that arrive from then on are
 * kept (up to 10000) until ctl_backend_remote_follow() hands them over. Call it before reading the audit
 * log, so that no event falls between the log and the live ones (the caller drops those it printed twice).
 */
int ctl_backend_remote_follow_start(CtlBackend *b);
/* Calls cb for the events kept since ctl_backend_remote_follow_start() (which it calls if that was not
 * done), then for every live provisioning event until SIGINT or SIGTERM, then returns 0; or the first
 * error, or what cb returned if negative. */
int ctl_backend_remote_follow(CtlBackend *b, CtlLiveEventCb cb, void *userdata);
