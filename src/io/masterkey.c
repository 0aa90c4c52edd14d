/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "fd-util.h"
#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "masterkey.h"
#include "string-util.h"

/* 64 hex digits + "\n" is the longest valid content; one more byte tells us the file is too long. */
#define KEY_CONTENT_MAX (2u * MASTER_KEY_SIZE + 1u)

static const char *const source_table[_MASTER_KEY_SOURCE_MAX] = {
        [MASTER_KEY_SOURCE_PATH] = "path",
        [MASTER_KEY_SOURCE_CREDENTIAL] = "credential",
        [MASTER_KEY_SOURCE_DB_DIR] = "database directory",
};

const char *master_key_source_to_string(MasterKeySource s) {
        if (s < 0 || s >= _MASTER_KEY_SOURCE_MAX)
                return NULL;
        return source_table[s];
}

static int unhex_digit(uint8_t c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

static bool all_zero(const uint8_t *p, size_t n) {
        uint8_t d = 0;
        for (size_t i = 0; i < n; i++)
                d |= p[i];
        return d == 0;
}

/* The file content (untrusted: anything may be in that file) -> key. */
static int parse_key_content(const uint8_t *buf, size_t len, uint8_t ret[static MASTER_KEY_SIZE]) {
        Cursor c = CURSOR_INIT(buf, len);
        uint8_t key[MASTER_KEY_SIZE];
        int r;

        if (len == MASTER_KEY_SIZE) {
                r = cursor_copy_bytes(&c, key, MASTER_KEY_SIZE);
                if (r < 0)
                        return r;
        } else if (len == 2 * MASTER_KEY_SIZE || len == 2 * MASTER_KEY_SIZE + 1) {
                for (size_t i = 0; i < MASTER_KEY_SIZE; i++) {
                        uint8_t hi, lo;
                        int a, b;

                        r = cursor_get_u8(&c, &hi);
                        if (r >= 0)
                                r = cursor_get_u8(&c, &lo);
                        if (r < 0)
                                goto fail;
                        a = unhex_digit(hi);
                        b = unhex_digit(lo);
                        if (a < 0 || b < 0) {
                                r = -EBADMSG;
                                goto fail;
                        }
                        key[i] = (uint8_t)((a << 4) | b);
                }
                if (cursor_left(&c) == 1) {
                        uint8_t nl;
                        r = cursor_get_u8(&c, &nl);
                        if (r < 0 || nl != '\n') {
                                r = -EBADMSG;
                                goto fail;
                        }
                }
        } else
                return -EBADMSG;

        if (all_zero(key, sizeof(key))) {
                r = -EBADMSG;
                goto fail;
        }

        memcpy(ret, key, MASTER_KEY_SIZE);
        explicit_bzero_safe(key, sizeof(key));
        return 0;

fail:
        explicit_bzero_safe(key, sizeof(key));
        return r;
}

static int read_key_file(const char *path, bool log_missing, uint8_t ret[static MASTER_KEY_SIZE]) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t buf[KEY_CONTENT_MAX + 1];
        char esc[256];
        size_t len = 0;
        struct stat st;
        int r;

        cescape_str(path, esc, sizeof(esc));

        /* O_NONBLOCK: a FIFO put there must not hang us; it is refused below anyway. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && !log_missing)
                        return r;
                return log_error_errno(r, "Failed to open master key file '%s': %m", esc);
        }
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat master key file '%s': %m", esc);
        if (S_ISDIR(st.st_mode))
                return log_error_errno(-EISDIR, "Master key file '%s' is a directory.", esc);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(-EBADFD, "Master key file '%s' is not a regular file.", esc);
        if ((st.st_mode & 077) != 0)
                return log_error_errno(-EPERM,
                                       "Master key file '%s' is accessible by group or others (mode %04o); "
                                       "refusing to use it. Run: chmod 600 '%s'",
                                       esc, (unsigned)(st.st_mode & 07777), esc);

        while (len < sizeof(buf)) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        explicit_bzero_safe(buf, sizeof(buf));
                        return log_error_errno(r, "Failed to read master key file '%s': %m", esc);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }

        r = parse_key_content(buf, len, ret);
        explicit_bzero_safe(buf, sizeof(buf));
        if (r < 0)
                return log_error_errno(r,
                                       "Master key file '%s' is malformed: expected 32 raw bytes or 64 hex "
                                       "digits (optionally followed by a newline), not all zero.",
                                       esc);
        return 0;
}

int master_key_read_file(const char *path, uint8_t ret_key[static MASTER_KEY_SIZE]) {
        if (isempty(path))
                return -EINVAL;
        return read_key_file(path, true, ret_key);
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int fd = -EBADF;

        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (!slash)
                strcpy(dir, ".");
        else if (slash == dir)
                slash[1] = '\0';
        else
                *slash = '\0';

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int master_key_create(const char *path, uint8_t *ret_key) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t key[MASTER_KEY_SIZE];
        char text[2 * MASTER_KEY_SIZE + 2];
        char esc[256];
        size_t off = 0, len;
        int r;

        if (isempty(path))
                return -EINVAL;
        cescape_str(path, esc, sizeof(esc));

        r = random_bytes(key, sizeof(key));
        if (r < 0)
                return log_error_errno(r, "Failed to get random bytes for a new master key: %m");

        hex_encode(key, sizeof(key), text, sizeof(text));
        len = 2 * MASTER_KEY_SIZE;
        text[len++] = '\n';

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                goto out;
        }
        while (off < len) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto out_unlink;
                }
                off += (size_t)n;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                goto out_unlink;
        }
        fd = safe_close(fd);
        r = fsync_directory_of(path);
        if (r < 0)
                log_warning_errno(r, "Failed to sync the directory of '%s', ignoring: %m", esc);

        if (ret_key)
                memcpy(ret_key, key, MASTER_KEY_SIZE);
        r = 0;
        goto out;

out_unlink:
        (void)unlink(path);
out:
        explicit_bzero_safe(key, sizeof(key));
        explicit_bzero_safe(text, sizeof(text));
        if (r == -EEXIST)
                return r; /* the caller decides: someone else created it first */
        if (r < 0)
                return log_error_errno(r, "Failed to create master key file '%s': %m", esc);
        return 0;
}

static bool db_path_is_file(const char *db_path) {
        return !isempty(db_path) && !streq(db_path, ":memory:") && !startswith(db_path, "file:");
}

static int key_path_next_to(const char *db_path, char **ret) {
        const char *slash = strrchr(db_path, '/');
        char *p;

        if (!slash)
                p = strdup(MASTER_KEY_DEFAULT_NAME);
        else if (asprintf(&p, "%.*s/%s", (int)(slash - db_path), db_path, MASTER_KEY_DEFAULT_NAME) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int master_key_load(const char *path, const char *db_path, MasterKeyFlags flags,
                    uint8_t ret_key[static MASTER_KEY_SIZE], char **ret_path, MasterKeySource *ret_source) {
        _cleanup_free_ char *p = NULL;
        uint8_t key[MASTER_KEY_SIZE];
        MasterKeySource source;
        bool created = false;
        const char *cred;
        int r;

        if (!isempty(path)) {
                p = strdup(path);
                if (!p)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                source = MASTER_KEY_SOURCE_PATH;
                r = read_key_file(p, true, key);
                goto done;
        }

        cred = getenv("CREDENTIALS_DIRECTORY");
        if (!isempty(cred)) {
                if (asprintf(&p, "%s/%s", cred, MASTER_KEY_CREDENTIAL_NAME) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                source = MASTER_KEY_SOURCE_CREDENTIAL;
                r = read_key_file(p, false, key);
                if (r != -ENOENT)
                        goto done;
                free(p);
                p = NULL;
        }

        if (!db_path_is_file(db_path))
                return log_error_errno(
                        -ENOKEY,
                        "No master key: the database is not a file, so there is no default key "
                        "file; give a key file or the credential '%s'.",
                        MASTER_KEY_CREDENTIAL_NAME);

        r = key_path_next_to(db_path, &p);
        if (r < 0)
                return log_error_errno(-ENOMEM, "Out of memory.");
        source = MASTER_KEY_SOURCE_DB_DIR;
        r = read_key_file(p, false, key);
        if (r == -ENOENT) {
                char esc[256];

                cescape_str(p, esc, sizeof(esc));
                if (!(flags & MASTER_KEY_CREATE))
                        return log_error_errno(r,
                                               "No master key: '%s' does not exist (and no key file or "
                                               "credential '%s' was given).",
                                               esc, MASTER_KEY_CREDENTIAL_NAME);
                r = master_key_create(p, key);
                if (r == -EEXIST) /* created by someone else meanwhile (the daemon, another meshprovctl) */
                        r = read_key_file(p, true, key);
                else if (r >= 0) {
                        created = true;
                        log_notice(
                                "Created a new master key in '%s'. Back it up: without it the keys stored "
                                "in the database cannot be read.",
                                esc);
                }
        }

done:
        if (r < 0) {
                explicit_bzero_safe(key, sizeof(key));
                return r;
        }
        memcpy(ret_key, key, MASTER_KEY_SIZE);
        explicit_bzero_safe(key, sizeof(key));
        if (ret_path)
                *ret_path = TAKE_PTR(p);
        if (ret_source)
                *ret_source = source;
        return created ? 1 : 0;
}
