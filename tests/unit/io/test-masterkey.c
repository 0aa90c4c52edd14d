/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"

#include "fileio.h"
#include "masterkey.h"

static char tmpdir[] = "/tmp/test-masterkey-XXXXXX";

static const uint8_t key_a[MASTER_KEY_SIZE] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
        0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};
static const char key_a_hex[] = "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0";

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
        return remove(p);
}

static int setup(void **state) {
        strcpy(tmpdir, "/tmp/test-masterkey-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        unsetenv("CREDENTIALS_DIRECTORY");
        return 0;
}

static int teardown(void **state) {
        unsetenv("CREDENTIALS_DIRECTORY");
        (void)nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

static char *path_in(const char *name) {
        static char buf[4][512];
        static unsigned i;
        char *p = buf[i++ % 4];
        snprintf(p, 512, "%s/%s", tmpdir, name);
        return p;
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void test_raw_and_hex_forms(void **state) {
        uint8_t k[MASTER_KEY_SIZE];
        char text[80];

        write_file(path_in("raw"), key_a, sizeof(key_a), 0600);
        memset(k, 0, sizeof(k));
        assert_int_equal(master_key_read_file(path_in("raw"), k), 0);
        assert_memory_equal(k, key_a, sizeof(k));

        /* 64 hex digits, with and without a newline, upper case too */
        write_file(path_in("hex"), key_a_hex, 64, 0400);
        memset(k, 0, sizeof(k));
        assert_int_equal(master_key_read_file(path_in("hex"), k), 0);
        assert_memory_equal(k, key_a, sizeof(k));

        snprintf(text, sizeof(text), "%s\n", key_a_hex);
        for (char *c = text; *c; c++)
                if (*c >= 'a' && *c <= 'f')
                        *c = (char)(*c - 'a' + 'A');
        write_file(path_in("hexnl"), text, 65, 0600);
        memset(k, 0, sizeof(k));
        assert_int_equal(master_key_read_file(path_in("hexnl"), k), 0);
        assert_memory_equal(k, key_a, sizeof(k));
}

static void test_malformed(void **state) {
        uint8_t k[MASTER_KEY_SIZE], before[MASTER_KEY_SIZE];
        uint8_t zeros[MASTER_KEY_SIZE] = {};
        char text[80];

        memset(k, 0x5a, sizeof(k));
        memcpy(before, k, sizeof(k));

        write_file(path_in("short"), key_a, 31, 0600);
        assert_int_equal(master_key_read_file(path_in("short"), k), -EBADMSG);

        write_file(path_in("long"), key_a_hex, 33, 0600);
        assert_int_equal(master_key_read_file(path_in("long"), k), -EBADMSG);

        write_file(path_in("empty"), "", 0, 0600);
        assert_int_equal(master_key_read_file(path_in("empty"), k), -EBADMSG);

        snprintf(text, sizeof(text), "%s", key_a_hex);
        text[10] = 'g';
        write_file(path_in("badhex"), text, 64, 0600);
        assert_int_equal(master_key_read_file(path_in("badhex"), k), -EBADMSG);

        snprintf(text, sizeof(text), "%s ", key_a_hex); /* 65th byte not a newline */
        write_file(path_in("trail"), text, 65, 0600);
        assert_int_equal(master_key_read_file(path_in("trail"), k), -EBADMSG);

        snprintf(text, sizeof(text), "%s\n\n", key_a_hex); /* too long */
        write_file(path_in("twonl"), text, 66, 0600);
        assert_int_equal(master_key_read_file(path_in("twonl"), k), -EBADMSG);

        write_file(path_in("zeros"), zeros, sizeof(zeros), 0600);
        assert_int_equal(master_key_read_file(path_in("zeros"), k), -EBADMSG);

        assert_int_equal(mkdir(path_in("dir"), 0700), 0);
        assert_int_equal(master_key_read_file(path_in("dir"), k), -EISDIR);

        assert_int_equal(master_key_read_file(path_in("missing"), k), -ENOENT);

        /* nothing was written on failure */
        assert_memory_equal(k, before, sizeof(k));
}

static void test_permissions(void **state) {
        uint8_t k[MASTER_KEY_SIZE];
        static const mode_t bad[] = { 0640, 0604, 0660, 0644, 0601, 0610 };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_file(path_in("perm"), key_a, sizeof(key_a), bad[i]);
                assert_int_equal(master_key_read_file(path_in("perm"), k), -EPERM);
                assert_int_equal(unlink(path_in("perm")), 0);
        }
        write_file(path_in("perm"), key_a, sizeof(key_a), 0600);
        assert_int_equal(master_key_read_file(path_in("perm"), k), 0);
}

static void test_precedence(void **state) {
        uint8_t k[MASTER_KEY_SIZE], key_b[MASTER_KEY_SIZE], key_c[MASTER_KEY_SIZE];
        MasterKeySource src;
        char *used = NULL;

        for (size_t i = 0; i < MASTER_KEY_SIZE; i++) {
                key_b[i] = (uint8_t)(0xb0 + i);
                key_c[i] = (uint8_t)(0xc0 ^ i);
        }
        assert_int_equal(mkdir(path_in("db"), 0700), 0);
        assert_int_equal(mkdir(path_in("cred"), 0700), 0);
        write_file(path_in("db/master.key"), key_a_hex, 64, 0600);
        write_file(path_in("cred/meshprov-master-key"), key_b, sizeof(key_b), 0400);
        write_file(path_in("explicit"), key_c, sizeof(key_c), 0600);

        /* the database directory */
        assert_int_equal(master_key_load(NULL, path_in("db/meshprov.db"), 0, k, &used, &src), 0);
        assert_memory_equal(k, key_a, sizeof(k));
        assert_int_equal(src, MASTER_KEY_SOURCE_DB_DIR);
        assert_string_equal(used, path_in("db/master.key"));
        free(used);

        /* a credential wins over the database directory */
        assert_int_equal(setenv("CREDENTIALS_DIRECTORY", path_in("cred"), 1), 0);
        assert_int_equal(master_key_load(NULL, path_in("db/meshprov.db"), 0, k, NULL, &src), 0);
        assert_memory_equal(k, key_b, sizeof(k));
        assert_int_equal(src, MASTER_KEY_SOURCE_CREDENTIAL);

        /* an explicit path wins over both */
        assert_int_equal(master_key_load(path_in("explicit"), path_in("db/meshprov.db"), 0, k, NULL, &src),
                         0);
        assert_memory_equal(k, key_c, sizeof(k));
        assert_int_equal(src, MASTER_KEY_SOURCE_PATH);

        /* an explicit path that does not exist is an error, no fallback */
        assert_int_equal(master_key_load(path_in("nope"), path_in("db/meshprov.db"), MASTER_KEY_CREATE, k,
                                         NULL, NULL),
                         -ENOENT);

        /* a credentials directory without our credential falls through to the database directory */
        assert_int_equal(unlink(path_in("cred/meshprov-master-key")), 0);
        assert_int_equal(master_key_load(NULL, path_in("db/meshprov.db"), 0, k, NULL, &src), 0);
        assert_memory_equal(k, key_a, sizeof(k));
        assert_int_equal(src, MASTER_KEY_SOURCE_DB_DIR);

        /* a credential that is present but bad is an error, not a fallback */
        write_file(path_in("cred/meshprov-master-key"), key_b, 16, 0400);
        assert_int_equal(master_key_load(NULL, path_in("db/meshprov.db"), 0, k, NULL, NULL), -EBADMSG);

        /* group-readable default key refused */
        unsetenv("CREDENTIALS_DIRECTORY");
        assert_int_equal(chmod(path_in("db/master.key"), 0640), 0);
        assert_int_equal(master_key_load(NULL, path_in("db/meshprov.db"), MASTER_KEY_CREATE, k, NULL, NULL),
                         -EPERM);
}

static void test_create(void **state) {
        uint8_t k1[MASTER_KEY_SIZE], k2[MASTER_KEY_SIZE], k3[MASTER_KEY_SIZE];
        char *content = NULL;
        size_t size = 0;
        struct stat st;
        int r;

        assert_int_equal(mkdir(path_in("db"), 0700), 0);

        /* not allowed to create */
        assert_int_equal(master_key_load(NULL, path_in("db/x.db"), 0, k1, NULL, NULL), -ENOENT);
        assert_int_equal(access(path_in("db/master.key"), F_OK), -1);

        /* created: 0600, 64 hex digits + newline */
        r = master_key_load(NULL, path_in("db/x.db"), MASTER_KEY_CREATE, k1, NULL, NULL);
        assert_int_equal(r, 1);
        assert_int_equal(stat(path_in("db/master.key"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(read_full_file(path_in("db/master.key"), 4096, &content, &size), 0);
        assert_int_equal(size, 65);
        assert_int_equal(content[64], '\n');
        for (size_t i = 0; i < 64; i++)
                assert_non_null(strchr("0123456789abcdef", content[i]));
        free(content);

        /* loaded again (not re-created) on the next call */
        r = master_key_load(NULL, path_in("db/x.db"), MASTER_KEY_CREATE, k2, NULL, NULL);
        assert_int_equal(r, 0);
        assert_memory_equal(k1, k2, sizeof(k1));

        /* create refuses to overwrite */
        assert_int_equal(master_key_create(path_in("db/master.key"), k3), -EEXIST);
        r = master_key_read_file(path_in("db/master.key"), k3);
        assert_int_equal(r, 0);
        assert_memory_equal(k1, k3, sizeof(k1));

        /* a second new key differs from the first */
        assert_int_equal(master_key_create(path_in("other.key"), k3), 0);
        assert_memory_not_equal(k1, k3, sizeof(k1));

        /* a bare file name: the key goes in the current directory */
        char cwd[512];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(path_in("db")), 0);
        assert_int_equal(master_key_load(NULL, "x.db", 0, k2, NULL, NULL), 0);
        assert_memory_equal(k1, k2, sizeof(k1));
        assert_int_equal(chdir(cwd), 0);
}

static void test_no_default_for_memory_db(void **state) {
        uint8_t k[MASTER_KEY_SIZE];

        assert_int_equal(master_key_load(NULL, ":memory:", MASTER_KEY_CREATE, k, NULL, NULL), -ENOKEY);
        assert_int_equal(master_key_load(NULL, NULL, MASTER_KEY_CREATE, k, NULL, NULL), -ENOKEY);
        assert_string_equal(master_key_source_to_string(MASTER_KEY_SOURCE_CREDENTIAL), "credential");
        assert_null(master_key_source_to_string(_MASTER_KEY_SOURCE_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_raw_and_hex_forms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_default_for_memory_db, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
