/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "audit.h"
#include "log.h"

int audit_queue_init(AuditQueue *q, Store *store, size_t cap) {
        *q = (AuditQueue){ .store = store, .cap = cap };
        q->events = new0(StoreAuditEvent, cap);
        return q->events ? 0 : -ENOMEM;
}

void audit_queue_done(AuditQueue *q) {
        free(q->events);
        *q = (AuditQueue){};
}

static StoreEventKind kind_from_record(ProvRecordKind k) {
        switch (k) {
        case PROV_RECORD_START:
                return STORE_EVENT_START;
        case PROV_RECORD_NACK:
                return STORE_EVENT_NACK;
        case PROV_RECORD_DATA:
                return STORE_EVENT_DATA;
        case PROV_RECORD_ACK:
                return STORE_EVENT_ACK;
        case PROV_RECORD_EXPIRED:
                return STORE_EVENT_EXPIRED;
        case PROV_RECORD_SEND_FAILED:
                return STORE_EVENT_SEND_FAILED;
        case PROV_RECORD_ERROR:
        case _PROV_RECORD_KIND_MAX:
        case _PROV_RECORD_KIND_INVALID:
                break;
        }
        return STORE_EVENT_ERROR;
}

void audit_event_from_record(const ProvRecord *rec, usec_t realtime, StoreAuditEvent *ret) {
        StoreAuditEvent *e = ret;

        memset(e, 0, sizeof(*e));
        e->time = realtime;
        e->kind = kind_from_record(rec->kind);
        memcpy(e->uid, rec->uid, MIN(rec->uid_len, sizeof(e->uid)));
        e->uid_len = MIN(rec->uid_len, sizeof(e->uid));
        e->method = rec->method;
        snprintf(e->vendor, sizeof(e->vendor), "%s", rec->vendor);
        snprintf(e->network, sizeof(e->network), "%s", rec->network);
        snprintf(e->gateway, sizeof(e->gateway), "%s", rec->route.gateway);
        snprintf(e->sink, sizeof(e->sink), "%s", rec->route.sink);
        e->source_address = rec->source_address;
        e->node_address = rec->node_address;
        e->session_id = rec->session_id;
        snprintf(e->result, sizeof(e->result), "%s", rec->result);
        e->nack_reason = rec->nack_reason;
        if (rec->kind == PROV_RECORD_START)
                snprintf(e->detail, sizeof(e->detail), "attempt %u, %u cop%s heard", rec->attempt,
                         rec->copies, rec->copies == 1 ? "y" : "ies");
        else
                snprintf(e->detail, sizeof(e->detail), "%s", rec->detail);
}

static void note_device(AuditQueue *q, const StoreAuditEvent *e) {
        int r = 0;

        if (e->uid_len == 0)
                return;
        switch (e->kind) {
        case STORE_EVENT_START:
                r = store_device_note_start(q->store, e->uid, e->uid_len, e->time);
                break;
        case STORE_EVENT_DATA:
                r = store_device_note_sent(q->store, e->uid, e->uid_len, e->time);
                break;
        case STORE_EVENT_ACK:
                if (streq(e->result, "ok"))
                        r = store_device_note_provisioned(q->store, e->uid, e->uid_len, e->time);
                break;
        case STORE_EVENT_NACK:
        case STORE_EVENT_EXPIRED:
        case STORE_EVENT_SEND_FAILED:
        case STORE_EVENT_ERROR:
        case _STORE_EVENT_KIND_MAX:
        case _STORE_EVENT_KIND_INVALID:
                break;
        }
        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "Failed to update device state: %m");
}

int audit_queue_flush(AuditQueue *q) {
        int r;

        if (q->n == 0)
                return 0;

        r = store_begin(q->store);
        if (r >= 0) {
                r = store_audit_append(q->store, q->events, q->n);
                if (r >= 0)
                        for (size_t i = 0; i < q->n; i++)
                                note_device(q, &q->events[i]);
                if (r >= 0)
                        r = store_commit(q->store);
                else
                        (void)store_rollback(q->store);
        }
        if (r < 0) {
                q->failures++;
                q->failing = true;
                return r;
        }
        q->failing = false;
        q->written += q->n;
        q->n = 0;
        return 0;
}

void audit_queue_push(AuditQueue *q, const StoreAuditEvent *ev) {
        if (q->n == q->cap) {
                /* The caller could not write (locked for long, disk full, ...): keep the newest. */
                memmove(q->events, q->events + 1, (q->cap - 1) * sizeof(*q->events));
                q->n--;
                q->dropped++;
        }
        q->events[q->n++] = *ev;
}
