#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns tests/data/prov_vectors.json into a C header for the unit tests.

The JSON stays the single source of the vectors: this script only transcribes it (hex strings stay hex
strings, the tests decode them) and refuses anything it does not understand, so that a changed vector file
fails the build instead of silently testing less.

usage: gen-prov-vectors-h.py INPUT.json OUTPUT.h
"""

import json
import sys

KINDS = {'bytes': 'PROV_VECTOR_BYTES', 'int': 'PROV_VECTOR_INT', 'str': 'PROV_VECTOR_TEXT',
         'bool': 'PROV_VECTOR_BOOL'}


def fail(msg):
    sys.exit('gen-prov-vectors-h: ' + msg)


def c_string(s):
    """A C string literal for s (UTF-8), or NULL. Every byte outside printable ASCII, and the characters
    that are special in C literals, become three-digit octal escapes (octal cannot swallow a following
    digit the way \\x can)."""
    if s is None:
        return 'NULL'
    out = []
    for b in s.encode('utf-8'):
        c = chr(b)
        if 0x20 <= b < 0x7f and c not in '"\\?':
            out.append(c)
        else:
            out.append('\\%03o' % b)
    return '"' + ''.join(out) + '"'


def hex_field(v, name, field, optional=False):
    if v is None and optional:
        return 'NULL'
    if not isinstance(v, str):
        fail('%s: %s is not a hex string' % (name, field))
    try:
        bytes.fromhex(v)
    except ValueError:
        fail('%s: %s is not valid hex' % (name, field))
    return c_string(v.lower())


def int_field(v, name, field, lo, hi):
    if isinstance(v, str):
        try:
            v = int(v, 0)
        except ValueError:
            fail('%s: %s is not a number' % (name, field))
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        fail('%s: %s out of range' % (name, field))
    return v


def emit_item(name, pair, kind_pair):
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(kind_pair, list) and len(kind_pair) == 2):
        fail('%s: malformed cbor_map entry' % name)
    ident, value = pair
    if kind_pair[0] != ident:
        fail('%s: cbor_map and cbor_map_value_kinds disagree on id %r' % (name, ident))
    ident = int_field(ident, name, 'cbor_map id', 0, 2**64 - 1)
    kind = kind_pair[1]
    if kind not in KINDS:
        fail('%s: unknown value kind %r' % (name, kind))

    integer, hexv, text, text_len = '0', 'NULL', 'NULL', 0
    if kind == 'bool':
        if not isinstance(value, bool):
            fail('%s: id %d is not a bool' % (name, ident))
        integer = '1' if value else '0'
    elif kind == 'int':
        v = int_field(value, name, 'id %d' % ident, -2**63, 2**63 - 1)
        integer = 'INT64_C(%d)' % v if v != -2**63 else '(-INT64_C(9223372036854775807) - 1)'
    elif kind == 'bytes':
        hexv = hex_field(value, name, 'id %d' % ident)
    else:
        if not isinstance(value, str):
            fail('%s: id %d is not text' % (name, ident))
        text, text_len = c_string(value), len(value.encode('utf-8'))
    return ('        { .id = %dU, .kind = %s, .integer = %s, .hex = %s, .text = %s, .text_len = %d },'
            % (ident, KINDS[kind], integer, hexv, text, text_len))


def check_len(v, hexkey, lenkey):
    name = v['name']
    n = int_field(v.get(lenkey), name, lenkey, 0, 1 << 16)
    if len(v[hexkey]) != 2 * n:
        fail('%s: %s does not match %s' % (name, lenkey, hexkey))
    return n


def main():
    if len(sys.argv) != 3:
        fail('usage: gen-prov-vectors-h.py INPUT.json OUTPUT.h')
    with open(sys.argv[1], encoding='utf-8') as f:
        doc = json.load(f)

    vectors = doc.get('vectors')
    aux = doc.get('aux_packets')
    if not isinstance(vectors, list) or not vectors or not isinstance(aux, dict):
        fail('no vectors or aux_packets')

    out = []
    w = out.append
    w('/* Generated from prov_vectors.json by gen-prov-vectors-h.py at build time. Do not edit. */')
    w('#pragma once')
    w('')
    w('#include <stdbool.h>')
    w('#include <stddef.h>')
    w('#include <stdint.h>')
    w('')
    w('typedef enum ProvVectorKind {')
    w('        PROV_VECTOR_BYTES, /* .hex */')
    w('        PROV_VECTOR_INT,   /* .integer */')
    w('        PROV_VECTOR_TEXT,  /* .text, .text_len bytes of UTF-8 */')
    w('        PROV_VECTOR_BOOL,  /* .integer 0 or 1 */')
    w('} ProvVectorKind;')
    w('')
    w('typedef struct ProvVectorItem {')
    w('        uint64_t id;')
    w('        ProvVectorKind kind;')
    w('        int64_t integer;')
    w('        const char *hex;')
    w('        const char *text;')
    w('        size_t text_len;')
    w('} ProvVectorItem;')
    w('')
    w('typedef struct ProvVector {')
    w('        const char *name;')
    w('        bool expect_accept;                  /* "accept"; otherwise the vector must be refused */')
    w('        int method;')
    w('        const char *uid_hex;')
    w('        uint32_t node_address;')
    w('        const char *node_address_le_hex;')
    w('        uint8_t session_id;')
    w('        const char *iv_hex;')
    w('        uint16_t counter;')
    w('        const char *factory_key_hex;         /* NULL for the unsecured method */')
    w('        const ProvVectorItem *items;         /* cbor_map, in the order of the file */')
    w('        size_t n_items;')
    w('        const char *cbor_hex;')
    w('        size_t cbor_len;')
    w('        const char *start_packet_hex;')
    w('        int key_index;')
    w('        const char *authenticated_bytes_hex; /* NULL when absent (unsecured) */')
    w('        const char *mic_hex;                 /* NULL when absent */')
    w('        const char *icb_hex;                 /* NULL when absent */')
    w('        const char *packet_hex;')
    w('        size_t packet_len;')
    w('        const char *tamper;                  /* NULL unless the vector was tampered with */')
    w('} ProvVector;')
    w('')

    for i, v in enumerate(vectors):
        name = v.get('name')
        if not isinstance(name, str):
            fail('vector %d has no name' % i)
        cmap, kinds = v.get('cbor_map'), v.get('cbor_map_value_kinds')
        if not isinstance(cmap, list) or not isinstance(kinds, list) or len(cmap) != len(kinds):
            fail('%s: cbor_map / cbor_map_value_kinds missing or of different lengths' % name)
        w('static const ProvVectorItem prov_vector_items_%d[] __attribute__((unused)) = {' % i)
        for pair, kind in zip(cmap, kinds):
            w(emit_item(name, pair, kind))
        w('};')
        w('')

    w('static const ProvVector prov_vectors[] __attribute__((unused)) = {')
    for i, v in enumerate(vectors):
        name = v['name']
        expect = v.get('expect')
        if not isinstance(expect, str) or not (expect == 'accept' or expect.startswith('reject')):
            fail('%s: unknown expect %r' % (name, expect))
        for k in ('uid_hex', 'iv_hex', 'cbor_hex', 'start_packet_hex', 'packet_hex', 'node_address_le_hex'):
            if k not in v:
                fail('%s: %s missing' % (name, k))
        check_len(v, 'cbor_hex', 'cbor_len')
        check_len(v, 'packet_hex', 'packet_len')
        tamper = v.get('tamper')
        if tamper is not None and not isinstance(tamper, str):
            fail('%s: tamper is not a string' % name)
        w('        {')
        w('                .name = %s,' % c_string(name))
        w('                .expect_accept = %s,' % ('true' if expect == 'accept' else 'false'))
        w('                .method = %d,' % int_field(v.get('method'), name, 'method', 0, 255))
        w('                .uid_hex = %s,' % hex_field(v['uid_hex'], name, 'uid_hex'))
        w('                .node_address = UINT32_C(0x%08x),'
          % int_field(v.get('node_address'), name, 'node_address', 0, 2**32 - 1))
        w('                .node_address_le_hex = %s,' % hex_field(v['node_address_le_hex'], name, 'node_address_le_hex'))
        w('                .session_id = %d,' % int_field(v.get('session_id'), name, 'session_id', 0, 255))
        w('                .iv_hex = %s,' % hex_field(v['iv_hex'], name, 'iv_hex'))
        w('                .counter = %d,' % int_field(v.get('counter'), name, 'counter', 0, 65535))
        w('                .factory_key_hex = %s,'
          % hex_field(v.get('factory_key_hex'), name, 'factory_key_hex', optional=True))
        w('                .items = prov_vector_items_%d,' % i)
        w('                .n_items = %d,' % len(v['cbor_map']))
        w('                .cbor_hex = %s,' % hex_field(v['cbor_hex'], name, 'cbor_hex'))
        w('                .cbor_len = %d,' % v['cbor_len'])
        w('                .start_packet_hex = %s,' % hex_field(v['start_packet_hex'], name, 'start_packet_hex'))
        w('                .key_index = %d,' % int_field(v.get('key_index'), name, 'key_index', 0, 255))
        for k in ('authenticated_bytes_hex', 'mic_hex', 'icb_hex'):
            w('                .%s = %s,' % (k, hex_field(v.get(k), name, k, optional=True)))
        w('                .packet_hex = %s,' % hex_field(v['packet_hex'], name, 'packet_hex'))
        w('                .packet_len = %d,' % v['packet_len'])
        w('                .tamper = %s,' % c_string(tamper))
        w('        },')
    w('};')
    w('#define PROV_VECTORS_N %d' % len(vectors))
    w('')

    n_aux = 0
    for k in sorted(aux):
        if not k.endswith('_hex'):
            continue
        macro = 'PROV_AUX_' + k[:-len('_hex')].upper() + '_HEX'
        w('#define %s %s' % (macro, hex_field(aux[k], 'aux_packets', k)))
        n_aux += 1
    if n_aux == 0:
        fail('aux_packets has no *_hex entry')

    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
