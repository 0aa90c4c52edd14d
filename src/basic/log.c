/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int log_max_level = LOG_INFO;
static LogBackend log_backend;
static void *log_backend_userdata;
static bool log_prefix_priority;
static bool log_stderr_journal;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level) {
        log_max_level = CLAMP(level, LOG_EMERG, LOG_DEBUG);
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int)i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (streq(s, "warn"))
                return LOG_WARNING;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t)level >= ELEMENTSOF(level_names))
                return NULL;
        return level_names[level];
}

void log_set_backend(LogBackend backend, void *userdata) {
        log_backend = backend;
        log_backend_userdata = userdata;
}

void log_set_prefix_priority(bool b) {
        log_prefix_priority = b;
}

void log_setup(void) {
        const char *e = getenv("JOURNAL_STREAM");
        if (e) {
                unsigned long long dev, ino;
                struct stat st;
                if (sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
                    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
                        log_prefix_priority = log_stderr_journal = true;
        }
        e = getenv("MESHPROV_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        log_set_max_level(l);
        }
}

bool log_stderr_is_journal(void) {
        return log_stderr_journal;
}

void log_write_stderr(int level, const char *message) {
        if (log_prefix_priority)
                fprintf(stderr, "<%d>%s\n", level, message);
        else
                fprintf(stderr, "%s\n", message);
}

_printf_(4, 0) static int log_dispatch(int level, int error, const char *const *fields, const char *format,
                                       va_list ap) {
        char buf[2048];
        int saved = errno;

        /* %m refers to the error passed in, not to whatever errno happens to hold. */
        errno = ERRNO_VALUE(error);
        (void)vsnprintf(buf, sizeof(buf), format, ap);
        errno = saved;

        if (log_backend)
                log_backend(level, fields, buf, log_backend_userdata);
        else
                log_write_stderr(level, buf);

        return -ERRNO_VALUE(error);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format,
                 ...) {
        va_list ap;
        va_start(ap, format);
        int r = log_dispatch(level, error, NULL, format, ap);
        va_end(ap);
        return r;
}

int log_struct_internal(int level, int error, const char *file, int line, const char *func,
                        const char *const *fields, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = log_dispatch(level, error, fields, format, ap);
        va_end(ap);
        return r;
}
