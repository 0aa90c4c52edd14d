/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "journal.h"
#include "log.h"

#define FIELDS_MAX 16

static void journal_backend(int level, const char *const *fields, const char *message, void *userdata) {
        struct iovec iov[FIELDS_MAX + 3];
        char prio[16];
        _cleanup_free_ char *msg = NULL;
        size_t n = 0;

        snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
        if (asprintf(&msg, "MESSAGE=%s", message) < 0) {
                log_write_stderr(level, message);
                return;
        }
        iov[n++] = (struct iovec){ .iov_base = msg, .iov_len = strlen(msg) };
        iov[n++] = (struct iovec){ .iov_base = prio, .iov_len = strlen(prio) };
        iov[n++] = (struct iovec){ .iov_base = (char *)"SYSLOG_IDENTIFIER="
                                                       "meshprovd",
                                   .iov_len = strlen("SYSLOG_IDENTIFIER=meshprovd") };
        for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
                if (strchr(fields[i], '=')) /* "KEY=value" only */
                        iov[n++] = (struct iovec){ .iov_base = (char *)fields[i],
                                                   .iov_len = strlen(fields[i]) };

        if (sd_journal_sendv(iov, (int)n) < 0)
                log_write_stderr(level, message);
}

bool journal_log_setup(bool force) {
        log_setup();
        if (!force && !log_stderr_is_journal())
                return false;
        log_set_backend(journal_backend, NULL);
        return true;
}
