-- SPDX-License-Identifier: Apache-2.0
-- 0002: a check value for the master key, so that a database opened with the wrong key is refused at once
-- ("the master key does not match this database") instead of failing on every secret it holds.
--
-- name 'master_key_check': wrap(32 zero bytes) with aad "meshprov:master-key-check", written by
-- src/store/store.c when the database is first opened with a key (after checking that key against an
-- existing secret, for a database that already holds some).

CREATE TABLE store_meta (
        name  TEXT NOT NULL PRIMARY KEY,
        value BLOB NOT NULL
);
