/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Logging in the systemd manner: log_info(), log_warning_errno(r, "...: %m") returns -abs(r).
 *
 * Only adapters (src/io), the daemon and the CLI log above debug; src/codec and src/engine do not log at
 * all. The default backend writes to stderr (with "<N>" priority prefixes when stderr is connected to the
 * journal); src/io/journal.c installs a native journal backend that also carries structured fields. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

typedef void (*LogBackend)(int level, const char *const *fields, const char *message, void *userdata);

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

/* NULL restores the stderr backend. */
void log_set_backend(LogBackend backend, void *userdata);
/* Prefix each stderr line with "<N>" (set automatically when $JOURNAL_STREAM matches stderr). */
void log_set_prefix_priority(bool b);
/* Call once at start-up: detects $JOURNAL_STREAM and reads $MESHPROV_LOG_LEVEL. */
void log_setup(void);

/* true if log_setup() found stderr connected to the journal. */
bool log_stderr_is_journal(void);

/* The stderr writer itself, for backends that fall back to it. */
void log_write_stderr(int level, const char *message);

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...)
        _printf_(6, 7);
/* fields: NULL-terminated array of "KEY=value" strings, passed to the journal; ignored on stderr. */
int log_struct_internal(int level, int error, const char *file, int line, const char *func,
                        const char *const *fields, const char *format, ...) _printf_(7, 8);

#define ERRNO_VALUE(e) (abs(e))

#define log_full_errno(level, error, ...)                                                     \
        ({                                                                                    \
                int _level = (level), _e = (error);                                           \
                _level <= log_get_max_level()                                                 \
                        ? log_internal(_level, _e, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -ERRNO_VALUE(_e);                                                   \
        })
#define log_full(level, ...) (void)log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...)  log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")

/* Structured: log_struct(LOG_INFO, 0, LOG_FIELDS("SINK=sink0", "NODE_ADDR=12"), "Sink %s up", name); */
#define LOG_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define log_struct_errno(level, error, fields, ...)                                                 \
        ({                                                                                          \
                int _level = (level), _e = (error);                                                 \
                _level <= log_get_max_level() ? log_struct_internal(_level, _e, __FILE__, __LINE__, \
                                                                    __func__, fields, __VA_ARGS__)  \
                                              : -ERRNO_VALUE(_e);                                   \
        })
#define log_struct(level, fields, ...) (void)log_struct_errno(level, 0, fields, __VA_ARGS__)

/* Message ids for the few events an operator acts on (journalctl MESSAGE_ID=...). */
#define MESHPROV_MESSAGE_STARTED        "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a50"
#define MESHPROV_MESSAGE_PROVISIONED    "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a51"
#define MESHPROV_MESSAGE_SESSION_FAILED "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a52"
#define MESHPROV_MESSAGE_SINK_LOST      "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a53"
#define MESHPROV_MESSAGE_SINK_UP        "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a54"
#define MESHPROV_MESSAGE_BROKER_LOST    "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a55"
#define MESHPROV_MESSAGE_BROKER_UP      "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a56"
#define MESHPROV_MESSAGE_DB_MIGRATED    "MESSAGE_ID=5e6f3c0a4b2d4e0f9a1c7d2b8e3f4a57"
