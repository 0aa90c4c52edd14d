/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Streaming reader for YAML files shaped like the wm-provisioning configuration: one document whose root is
 * a mapping of sections (version, networks, nodes, ...), each usually a mapping of named entries. libyaml
 * does the parsing (and reports syntax errors with line:column); this layer turns its event stream into one
 * small tree per entry, hands it to a callback and frees it, so memory stays bounded by the largest entry
 * and not by the file (a 256 MiB import never becomes a 2 GiB document tree).
 *
 * Anchors and aliases are supported (an alias shares the anchored tree; aliases to anchors not yet complete
 * are errors, so no cycles); an anchored section is built whole. Limits (src/basic/limits.h): nesting depth,
 * scalar size, nodes per entry, number of anchors and of nodes kept for aliases, top-level keys.
 *
 * Scalars are typed like PyYAML's SafeLoader (YAML 1.1), which is what wm-provisioning uses: see
 * ynode_type(). */

#include "macro.h"

typedef enum YNodeKind {
        YNODE_SCALAR,
        YNODE_SEQUENCE,
        YNODE_MAPPING,
        _YNODE_KIND_MAX,
        _YNODE_KIND_INVALID = -EINVAL,
} YNodeKind;

typedef struct YNode {
        unsigned n_ref;
        YNodeKind kind;
        unsigned line, column; /* 1-based start position */
        char *tag;   /* explicit tag as resolved by libyaml ("tag:yaml.org,2002:binary"), or NULL */
        bool plain;  /* scalar written without quotes or block style: implicitly typed */
        char *value; /* scalar, NUL-terminated (may also contain NULs: use len) */
        size_t len;
        struct YNode **items; /* sequence: n_items items; mapping: key, value, key, value, ... */
        size_t n_items;       /* sequence: items; mapping: pairs */
} YNode;

YNode *ynode_ref(YNode *n);
YNode *ynode_unref(YNode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(YNode *, ynode_unref);

static inline const YNode *ynode_map_key(const YNode *n, size_t i) {
        return n->items[2 * i];
}
static inline const YNode *ynode_map_value(const YNode *n, size_t i) {
        return n->items[2 * i + 1];
}

/* The resolved type of a node. */
typedef enum YType {
        YTYPE_STR,
        YTYPE_INT,
        YTYPE_BOOL,
        YTYPE_NULL,
        YTYPE_FLOAT,
        YTYPE_BINARY, /* !!binary: base64 */
        YTYPE_TIMESTAMP,
        YTYPE_SEQUENCE,
        YTYPE_MAPPING,
        _YTYPE_MAX,
        _YTYPE_INVALID = -EINVAL,
} YType;

/* Quoted and block scalars are strings; plain scalars are null (~, null, empty), bool (yes/no/true/false/on/
 * off in the three casings), int (decimal, 0x hex, 0b binary, 0-prefixed octal, sexagesimal 1:30, with
 * underscores), float, timestamp, else str. An explicit tag (!!str, !!int, !!binary, ...) decides instead.
 * Returns the type, or -EBADMSG for an unknown tag or a value that does not match its explicit tag. */
YType ynode_type(const YNode *n);
const char *ytype_to_string(YType t); /* "a string", "an integer", ... for error messages */

/* A YAML 1.1 integer scalar (see above) as sign and minimal big-endian magnitude (0 -> empty).
 * -EBADMSG if it is not an integer, -ERANGE if the magnitude needs more than bufsz bytes. */
int yint_parse(const char *s, size_t len, bool *ret_negative, uint8_t *buf, size_t bufsz, size_t *ret_len);

typedef struct YamlError {
        unsigned line, column; /* 1-based; 0 if unknown */
        char message[256];
} YamlError;

/* Called for each entry of each top-level mapping: section is the top-level key, key the entry's key (always
 * a scalar), value its tree. A top-level value that is not a mapping (e.g. "version: 1", "nodes:" left
 * empty) gives one call with key == NULL. A negative return stops the walk and is returned as is (the
 * callback reports its own error). */
typedef int (*YamlEntryCb)(const char *section, const YNode *key, const YNode *value, void *userdata);

/* Parses buf (a whole file). Errors: -EBADMSG (YAML syntax, not one document, root not a mapping, duplicate
 * top-level key, undefined alias, bad key), -E2BIG (a limit), -ENOMEM; *err says what and where. */
int yaml_walk(const void *buf, size_t len, YamlEntryCb cb, void *userdata, YamlError *err);
