/* SPDX-License-Identifier: Apache-2.0 */
/* The wm-provisioning YAML import on arbitrary bytes, against a fresh in-memory store per input:
 *   1. import without --allow-unsecured, 2. with it, 3. again (every row now exists: the update paths);
 *   after each, no transaction may be left open (a new one must start);
 *   4. export with keys, and import that export back: it must succeed (export and import agree). */
#include <stdio.h>
#include <stdlib.h>

#include "ctl-backend.h"
#include "export.h"
#include "import.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t master[32] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static void check_no_transaction(Store *s) {
        if (store_begin(s) < 0)
                abort(); /* the import left a transaction open (or broke the connection) */
        if (store_rollback(s) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        StoreOptions o = { .master_key = master };
        ImportOptions io = {};
        ImportResult res;
        ImportError err;
        CtlBackend *b = NULL;
        Store *s = NULL;
        char *out = NULL;
        size_t out_size = 0;
        ExportResult xr;
        FILE *f;
        int r;

        if (size > 64 * 1024)
                return 0;
        if (store_open(":memory:", &o, &s) < 0)
                abort();
        if (ctl_backend_local_new(s, true, &b) < 0)
                abort();

        (void)ctl_import_yaml(b, data, size, &io, &res, &err);
        check_no_transaction(s);
        io.allow_unsecured = true;
        r = ctl_import_yaml(b, data, size, &io, &res, &err);
        check_no_transaction(s);
        if (r >= 0) {
                (void)ctl_import_yaml(b, data, size, &io, &res, &err);
                check_no_transaction(s);
        }

        f = open_memstream(&out, &out_size);
        if (!f)
                abort();
        r = ctl_export_yaml(b, f, true, &xr);
        fclose(f);
        if (r >= 0) {
                r = ctl_import_yaml(b, out, out_size, &io, &res, &err);
                if (r < 0) {
                        fprintf(stderr, "re-import of the export failed: %s: %s\n%s\n", err.path,
                                err.message, out);
                        abort();
                }
                check_no_transaction(s);
        }
        free(out);
        ctl_backend_free(b);
        return 0;
}
