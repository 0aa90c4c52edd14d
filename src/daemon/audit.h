/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Engine records -> audit log rows and device state, written in batches: the queue is flushed once per
 * event-loop iteration (or when full) in one transaction, so a burst of STARTs costs one commit. */

#include "prov-engine.h"
#include "store.h"

typedef struct AuditQueue {
        Store *store;
        StoreAuditEvent *events;
        size_t n, cap;
        uint64_t written, dropped, failures;
        bool failing; /* the last flush failed */
} AuditQueue;

int audit_queue_init(AuditQueue *q, Store *store, size_t cap);
void audit_queue_done(AuditQueue *q);

/* Converts a record into a row (stamped with `realtime`, microseconds since the epoch). */
void audit_event_from_record(const ProvRecord *rec, usec_t realtime, StoreAuditEvent *ret);

/* Queues a row. It never writes (the caller decides when and how long a write may wait: call
 * audit_queue_flush() when audit_queue_full()); a full queue drops its oldest row, counted in `dropped`. */
void audit_queue_push(AuditQueue *q, const StoreAuditEvent *ev);
/* Writes everything queued, and the device state changes the rows imply. Returns <0 if the write failed
 * (the rows are kept for the next attempt unless the queue overflows). */
int audit_queue_flush(AuditQueue *q);
static inline bool audit_queue_pending(const AuditQueue *q) {
        return q->n > 0;
}
static inline bool audit_queue_full(const AuditQueue *q) {
        return q->n >= q->cap;
}
