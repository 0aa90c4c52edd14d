/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>

#include "macro.h"

/* Escapes untrusted bytes for a log line: printable ASCII stays, everything else becomes \xNN, and the
 * output is cut (ending in "...") when it does not fit. Always NUL-terminates. Returns buf. */
char *cescape_buf(const void *p, size_t n, char *buf, size_t bufsz);
static inline char *cescape_str(const char *s, char *buf, size_t bufsz) {
        return cescape_buf(s, s ? strlen(s) : 0, buf, bufsz);
}

/* true if s (n bytes) is printable ASCII without '/', '+', '#' or NUL: safe inside an MQTT topic level. */
bool topic_level_valid(const char *s, size_t n);

/* Appends formatted text to a growing heap string; returns -ENOMEM on failure (the string is kept). */
int strappendf(char **s, size_t *len, const char *format, ...) _printf_(3, 4);

/* Formats items as "a, b, c" into buf (size > 0; always NUL-terminated). When not all fit, the first ones
 * that do are followed by "... and N more" (", " before it if any was shown), for which room is kept, so a
 * cut list says so. Returns the number of items shown in full. */
size_t strlist_format_bounded(const char *const *items, size_t n, char *buf, size_t size);

/* strdup that treats NULL as NULL; returns -ENOMEM through *ret semantics is not needed. */
static inline char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

/* Replaces *p with a copy of s (or NULL). -ENOMEM on failure. */
int free_and_strdup(char **p, const char *s);
