/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Small helpers used everywhere: cleanup attributes, ownership hand-off, array sizes. */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_  __attribute__((warn_unused_result))
#define _pure_         __attribute__((pure))
#define _noreturn_     __attribute__((noreturn))
#define _likely_(x)    (__builtin_expect(!!(x), 1))
#define _unlikely_(x)  (__builtin_expect(!!(x), 0))
#define _fallthrough_  __attribute__((fallthrough))

#define ELEMENTSOF(x)                                                                   \
        (__builtin_choose_expr(!__builtin_types_compatible_p(typeof(x), typeof(&*(x))), \
                               sizeof(x) / sizeof((x)[0]), (void)0))

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#define CLAMP(x, lo, hi)   (MIN(MAX((x), (lo)), (hi)))
#define DIV_ROUND_UP(x, y) (((x) + (y)-1) / (y))

/* Takes the value out of a variable and leaves a NULL/zero behind: a visible ownership hand-off. */
#define TAKE_GENERIC(var, type, nullvalue)    \
        ({                                    \
                type *_pvar_ = &(var);        \
                type _var_ = *_pvar_;         \
                type _nullvalue_ = nullvalue; \
                *_pvar_ = _nullvalue_;        \
                _var_;                        \
        })
#define TAKE_PTR(ptr) TAKE_GENERIC(ptr, typeof(ptr), NULL)
#define TAKE_FD(fd)   TAKE_GENERIC(fd, int, -EBADF)

#define ASSERT_PTR(p)                \
        ({                           \
                typeof(p) _p_ = (p); \
                assert(_p_);         \
                _p_;                 \
        })

/* (clang-format reads `new` as the C++ keyword and would put a space before the parameter list) */
/* clang-format off */
#define new(t, n)  ((t *)calloc_multiply(sizeof(t), (n), false))
#define new0(t, n) ((t *)calloc_multiply(sizeof(t), (n), true))
/* clang-format on */

static inline void *calloc_multiply(size_t size, size_t n, bool zero) {
        if (size != 0 && n > SIZE_MAX / size)
                return NULL;
        size_t total = size * n;
        if (total == 0)
                total = 1;
        return zero ? calloc(1, total) : malloc(total);
}

static inline void freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p) {   \
                if (*p)                         \
                        *p = func(*p);          \
        }

/* Like DEFINE_TRIVIAL_CLEANUP_FUNC, for destructors that return void. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(type, func) \
        static inline void func##p(type *p) {        \
                if (*p)                              \
                        func(*p);                    \
        }

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
static inline bool isempty(const char *s) {
        return !s || s[0] == '\0';
}
static inline const char *strempty(const char *s) {
        return s ?: "";
}
static inline const char *strna(const char *s) {
        return s ?: "n/a";
}
static inline const char *yes_no(bool b) {
        return b ? "yes" : "no";
}

/* Returns a pointer to the character after the prefix, or NULL. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* Overwrites secrets before memory is released; the compiler may not drop it. */
static inline void explicit_bzero_safe(void *p, size_t n) {
        if (p && n > 0)
                explicit_bzero(p, n);
}

/* Constant-time comparison for MICs and keys. */
static inline bool memeq_secure(const void *a, const void *b, size_t n) {
        const volatile uint8_t *x = a, *y = b;
        uint8_t d = 0;
        for (size_t i = 0; i < n; i++)
                d |= x[i] ^ y[i];
        return d == 0;
}

#define assert_not_reached()                         \
        do {                                         \
                assert(!"unreachable code reached"); \
                abort();                             \
        } while (0)

/* An enum value that means "invalid", following systemd: _FOO_INVALID = -EINVAL. */
#define _ENUM_INVALID (-EINVAL)
