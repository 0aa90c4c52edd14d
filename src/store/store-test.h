/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Hooks for the store's unit tests only (not for the daemon or meshprovctl): query plans, the embedded
 * migrations, and raw SQL to damage rows on purpose. */

#include "store.h"

typedef enum StoreQuery {
        STORE_QUERY_RESOLVE_DEVICE,
        STORE_QUERY_RESOLVE_VENDOR,
        STORE_QUERY_DEVICE_GET,
        STORE_QUERY_ADDRESS_BY_UID,
        STORE_QUERY_ADDRESS_REUSABLE,
        STORE_QUERY_ADDRESS_OCCUPIED,
        _STORE_QUERY_MAX,
        _STORE_QUERY_INVALID = -EINVAL,
} StoreQuery;

/* The fixed SQL behind a hot path. */
const char *store_query_sql(StoreQuery q);
/* The SQL that store_audit_query() / store_device_list() run for a filter. */
int store_audit_query_sql(const StoreAuditFilter *f, char **ret);
int store_device_list_sql(const StoreDeviceFilter *f, bool count, char **ret);
/* EXPLAIN QUERY PLAN of sql: the plan's detail lines, each ending in "\n". */
int store_explain_sql(Store *s, const char *sql, char **ret);

size_t store_migration_count(void);
const char *store_migration_name(size_t i);

/* Runs raw SQL (several statements allowed). */
int store_test_exec(Store *s, const char *sql);
