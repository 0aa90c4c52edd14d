/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration parser on arbitrary bytes: load (no environment), validate, print. */
#include <stdio.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *no_env(const char *name, void *userdata) {
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static FILE *devnull;
        const ConfOptions options = { .getenv = no_env, .hostname = "fuzz" };
        Config *c = NULL;

        if (!devnull) {
                devnull = fopen("/dev/null", "we");
                if (!devnull)
                        return 0;
        }
        if (conf_load_buffer("fuzz.conf", data, size, &options, &c) < 0)
                return 0;
        (void)conf_validate(c);
        (void)conf_validate(c); /* replaces its own findings */
        (void)conf_dump(c, devnull);
        config_free(c);
        return 0;
}
