/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Export as wm-provisioning v1 YAML (the format ctl_import_yaml() reads): networks with address, channel,
 * profile, allow_unsecured and pool; devices as nodes named by their label (or "uid-<hex>" when the label is
 * empty or already taken) with network, vendor, method, uid, node_id, node_role, user_specific and
 * enabled: false for disabled devices.
 *
 * Keys (network keys, device factory keys) are written only with include_keys. Without them the file is a
 * readable inventory, and importing it back needs the keys to be present already (networks are created only
 * with keys). Vendors are not part of the format and are not exported. */

#include <stdio.h>

#include "ctl-backend.h"

typedef struct ExportResult {
        unsigned networks;
        uint64_t devices;
} ExportResult;

/* Writes the document to f. -EIO on a write error, other errors from the backend. */
int ctl_export_yaml(CtlBackend *b, FILE *f, bool include_keys, ExportResult *ret);
