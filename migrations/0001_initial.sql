-- SPDX-License-Identifier: Apache-2.0
-- 0001: networks, vendors, devices, pool address allocations, audit log.
--
-- Applied by src/store/store.c inside one transaction, which then sets PRAGMA user_version = 1.
-- Never edit this file once shipped: add 0002_*.sql instead.
--
-- The rules (ranges, cross-row consistency) are enforced in C before anything is written, with errors that
-- name the offending field; the constraints here are a second line of defence. Keys are stored only as
-- keywrap blobs (AES-256-GCM under the master key, which never enters the database), bound to their row
-- through the associated data noted beside each column. Times are microseconds since the epoch.

CREATE TABLE networks (
        id              INTEGER PRIMARY KEY,
        name            TEXT    NOT NULL UNIQUE,
        profile         INTEGER NOT NULL CHECK (profile BETWEEN 0 AND 2),
        network_address INTEGER NOT NULL CHECK (network_address BETWEEN 1 AND 16777214),
        channel         INTEGER NOT NULL CHECK (channel BETWEEN 1 AND 255),
        keys            BLOB    NOT NULL,                  -- wrap(enc_key || auth_key), aad "network:<name>"
        allow_unsecured INTEGER NOT NULL CHECK (allow_unsecured IN (0, 1)),
        pool_first      INTEGER,                           -- all three NULL: no pool
        pool_last       INTEGER,
        pool_next       INTEGER,                           -- lowest pool address never handed out
        created         INTEGER NOT NULL,
        updated         INTEGER NOT NULL,
        CHECK ((pool_first IS NULL) = (pool_last IS NULL) AND (pool_first IS NULL) = (pool_next IS NULL)),
        CHECK (pool_first IS NULL OR pool_first <= pool_last)
);

CREATE TABLE vendors (
        id                 INTEGER PRIMARY KEY,
        name               TEXT    NOT NULL UNIQUE,
        key_kind           INTEGER NOT NULL CHECK (key_kind BETWEEN 0 AND 2),
        key                BLOB,                           -- wrap(32 bytes), aad "vendor:<name>"
        enroll_kind        INTEGER NOT NULL CHECK (enroll_kind BETWEEN 0 AND 2),
        enroll_prefix      BLOB,                           -- NULL when enroll_kind = 0
        enroll_method      INTEGER NOT NULL CHECK (enroll_method IN (0, 1, 3)),
        default_network_id INTEGER REFERENCES networks (id),
        enabled            INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        created            INTEGER NOT NULL,
        updated            INTEGER NOT NULL,
        CHECK ((key_kind = 0) = (key IS NULL)),
        CHECK ((enroll_kind = 0) = (enroll_prefix IS NULL))
);
-- store_resolve(): one probe per candidate prefix length; also makes each rule unique.
CREATE UNIQUE INDEX vendors_enroll ON vendors (enroll_kind, enroll_prefix);
CREATE INDEX vendors_default_network ON vendors (default_network_id);

CREATE TABLE devices (
        id             INTEGER PRIMARY KEY,
        uid            BLOB    NOT NULL UNIQUE,            -- store_resolve() and get by uid
        label          TEXT    NOT NULL,
        vendor_id      INTEGER REFERENCES vendors (id),
        network_id     INTEGER REFERENCES networks (id),   -- NULL: the vendor's default network
        eff_network_id INTEGER NOT NULL REFERENCES networks (id), -- the network it joins (kept by the store)
        method         INTEGER NOT NULL CHECK (method IN (0, 1, 3)),
        factory_key    BLOB,                               -- wrap(32 bytes), aad "device:<uid hex>"
        node_address   INTEGER,                            -- explicit address, NULL: none (or from the pool)
        role           INTEGER CHECK (role BETWEEN 0 AND 255),
        user_items     BLOB,                               -- compact serialization, see store-device.c
        enabled        INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        state          INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2),
        created        INTEGER NOT NULL,
        updated        INTEGER NOT NULL,
        last_start     INTEGER NOT NULL DEFAULT 0,
        provisioned_at INTEGER NOT NULL DEFAULT 0,
        n_starts       INTEGER NOT NULL DEFAULT 0,
        n_provisioned  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_vendor ON devices (vendor_id, uid);
CREATE INDEX devices_network ON devices (network_id);
CREATE INDEX devices_eff_network ON devices (eff_network_id, uid);
-- An explicit node address is unique within the network the device joins.
CREATE UNIQUE INDEX devices_node_address ON devices (eff_network_id, node_address) WHERE node_address IS NOT NULL;

-- Pool addresses. A row is held by uid (released NULL), held back after release (uid kept, released = time),
-- or free (uid NULL, released = 0: an address the pool passed over while it was a device's explicit address).
CREATE TABLE address_allocations (
        network_id INTEGER NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
        address    INTEGER NOT NULL,
        uid        BLOB,
        allocated  INTEGER NOT NULL,
        released   INTEGER,
        PRIMARY KEY (network_id, address),
        CHECK (uid IS NOT NULL OR released IS NOT NULL)
) WITHOUT ROWID;
CREATE UNIQUE INDEX address_allocations_uid ON address_allocations (network_id, uid);
CREATE INDEX address_allocations_reusable ON address_allocations (network_id, address)
        WHERE released IS NOT NULL;

-- AUTOINCREMENT: ids are never reused after a prune, so clients can page by id.
CREATE TABLE audit_events (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        time           INTEGER NOT NULL,
        kind           INTEGER NOT NULL,
        uid            BLOB,
        method         INTEGER,
        vendor         TEXT    NOT NULL,
        network        TEXT    NOT NULL,
        gateway        TEXT    NOT NULL,
        sink           TEXT    NOT NULL,
        source_address INTEGER NOT NULL,
        node_address   INTEGER NOT NULL,
        session_id     INTEGER NOT NULL,
        result         TEXT    NOT NULL,
        nack_reason    INTEGER,
        detail         TEXT    NOT NULL
);
CREATE INDEX audit_events_uid ON audit_events (uid, id);
CREATE INDEX audit_events_time ON audit_events (time);
