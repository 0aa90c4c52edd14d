/* SPDX-License-Identifier: Apache-2.0 */
/* Replays a fuzz corpus as an ordinary test, without libFuzzer: every file under the directories (or the
 * files) named on the command line is passed to LLVMFuzzerTestOneInput once. Crash repros live in the same
 * corpus directories, so a fixed crash stays fixed under gcc and under the sanitizer build. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        char *buf = NULL;
        size_t size = 0;
        int r = read_full_file(path, 16u << 20, &buf, &size);
        if (r < 0) {
                fprintf(stderr, "Failed to read '%s': %s\n", path, strerror(-r));
                return r;
        }
        /* Copy into an exactly sized allocation so that ASan sees reads past the end. */
        uint8_t *exact = malloc(size ? size : 1);
        if (!exact) {
                free(buf);
                return -ENOMEM;
        }
        memcpy(exact, buf, size);
        free(buf);
        (void)LLVMFuzzerTestOneInput(exact, size);
        free(exact);
        return 0;
}

static int cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
        unsigned n = 0;
        int failed = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "Cannot access '%s'\n", argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        failed |= run_file(argv[i]) < 0;
                        n++;
                        continue;
                }
                struct dirent **ents;
                int k = scandir(argv[i], &ents, NULL, NULL);
                if (k < 0) {
                        fprintf(stderr, "Cannot list '%s'\n", argv[i]);
                        return 1;
                }
                char **names = calloc((size_t)k + 1, sizeof(char *));
                int m = 0;
                for (int j = 0; j < k; j++) {
                        if (ents[j]->d_name[0] != '.')
                                names[m++] = strdup(ents[j]->d_name);
                        free(ents[j]);
                }
                free(ents);
                qsort(names, (size_t)m, sizeof(char *), cmp);
                for (int j = 0; j < m; j++) {
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]);
                        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                                failed |= run_file(path) < 0;
                                n++;
                        }
                        free(names[j]);
                }
                free(names);
        }
        printf("replayed %u inputs\n", n);
        if (n == 0) {
                fprintf(stderr, "empty corpus\n");
                return 1;
        }
        return failed ? 1 : 0;
}
