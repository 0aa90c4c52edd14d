/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Import of a wm-provisioning v1 YAML file:
 *
 *   version: 1
 *   networks:
 *     <name>: { address, channel, authentication_key, encryption_key,
 *               profile (2.4G|SubG|5GMesh), allow_unsecured (bool), pool ("FIRST-LAST") }   <- our
 * extensions nodes: <name>: { network, method (0|1|3), uid |
 * authenticator_uid_type/authenticator_uid/node_uid_type/node_uid, factory_key, node_id, node_role,
 * user_specific {128..255: value}, vendor, enabled } <- our extensions
 *
 * Values are converted like the reference server (import-values.h). Networks in the file are created or
 * updated; nodes become devices, created or updated by UID. An updated device takes everything the file says
 * (network, method, label = the node's name, node address, role, user items; factory key when given) and
 * keeps its vendor, enabled flag and provisioning history unless the file sets them.
 *
 * The whole import is one transaction: the file is read twice (first networks, structure and version, then
 * the nodes, one at a time, so memory does not grow with the file), and any error rolls everything back.
 * Method-0 (unsecured) nodes are refused unless allow_unsecured is set; then their networks are created or
 * updated with allow_unsecured=yes and a warning says so. */

#include "ctl-backend.h"
#include "macro.h"

typedef struct ImportOptions {
        bool allow_unsecured;
        bool dry_run; /* validate everything against the database, then roll back */
        /* optional: one line per warning; progress every IMPORT_PROGRESS_STEP nodes (done of total) */
        void (*warning)(const char *message, void *userdata);
        void (*progress)(uint64_t done, uint64_t total, void *userdata);
        void *userdata;
} ImportOptions;

#define IMPORT_PROGRESS_STEP 1000u

typedef struct ImportResult {
        unsigned networks_created, networks_updated;
        unsigned networks_made_unsecured; /* allow_unsecured switched on because of method-0 nodes */
        uint64_t devices_created, devices_updated;
} ImportResult;

typedef struct ImportError {
        char path[192];        /* "nodes.test_node.factory_key"; "" for the file as a whole */
        char message[320];     /* "must be 32 bytes, got 31" */
        unsigned line, column; /* 1-based, 0 if unknown */
} ImportError;

/* Returns 0 (with *ret filled) or a negative errno with *err filled: -EINVAL/-EBADMSG for the file's
 * content, -E2BIG for a limit, other errors from the backend. Nothing is changed on error or with dry_run.
 */
int ctl_import_yaml(CtlBackend *b, const void *buf, size_t len, const ImportOptions *opts, ImportResult *ret,
                    ImportError *err);

/* "path: message" with the position when known: "12:5: nodes.n1.factory_key: must be 32 bytes, got 31". */
char *import_error_format(const ImportError *err, char *buf, size_t bufsz);
