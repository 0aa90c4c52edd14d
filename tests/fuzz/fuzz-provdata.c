/* SPDX-License-Identifier: Apache-2.0 */
/* The CBOR parameter map decoder on arbitrary bytes. Checks: only -EBADMSG / -EMSGSIZE as errors; what
 * decodes obeys the strict-node rules and comes out normalized; normalize, encode, decode gives the same
 * parameters back and re-encodes to the same bytes; when the encoder refuses, the validity rules refuse too;
 * and prov_params_validate() agrees with the encoded length about the size limit of every profile. */
#include <stdlib.h>

#include "provdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

static bool user_item_equal(const ProvUserItem *a, const ProvUserItem *b) {
        if (a->id != b->id || a->type != b->type)
                return false;
        switch (a->type) {
        case PROV_USER_INT:
                return a->integer == b->integer;
        case PROV_USER_BOOL:
                return a->boolean == b->boolean;
        case PROV_USER_BYTES:
        case PROV_USER_TEXT:
                return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
        case _PROV_USER_TYPE_MAX:
        case _PROV_USER_TYPE_INVALID:
                break;
        }
        return false;
}

static bool params_equal(const ProvParams *a, const ProvParams *b) {
        if (memcmp(a->enc_key, b->enc_key, PROV_KEY_SIZE) != 0 ||
            memcmp(a->auth_key, b->auth_key, PROV_KEY_SIZE) != 0)
                return false;
        if (a->network_address != b->network_address || a->channel != b->channel)
                return false;
        if (a->has_node_address != b->has_node_address ||
            (a->has_node_address && a->node_address != b->node_address))
                return false;
        if (a->has_role != b->has_role || (a->has_role && a->role != b->role))
                return false;
        if (a->n_user_items != b->n_user_items)
                return false;
        for (size_t i = 0; i < a->n_user_items; i++)
                if (!user_item_equal(&a->user_items[i], &b->user_items[i]))
                        return false;
        return true;
}

static void check_decoded(const ProvParams *p) {
        check(prov_network_address_valid(p->network_address));
        check(p->channel >= 1 && p->channel <= 255);
        check(!p->has_node_address || prov_node_address_valid(p->node_address));
        check(!p->has_role || prov_role_valid(p->role));
        check(p->n_user_items <= PROV_PARAMS_USER_MAX);
        for (size_t i = 0; i < p->n_user_items; i++) {
                const ProvUserItem *it = &p->user_items[i];
                check(it->id >= 128);
                check(i == 0 || p->user_items[i - 1].id < it->id); /* sorted, unique */
                check(prov_user_type_to_string(it->type));
                check(it->len <= PROV_USER_STRING_MAX);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static ProvParams p, q, n;
        uint8_t buf[4096], buf2[4096];
        const char *field;
        int r, len;

        r = provdata_decode(data, size, &p);
        if (r < 0) {
                check(r == -EBADMSG || r == -EMSGSIZE);
                return 0;
        }
        check_decoded(&p);

        n = p;
        prov_params_normalize(&n);
        check(params_equal(&n, &p)); /* already normalized */

        len = provdata_encode(&n, buf, sizeof(buf));
        if (len == -EINVAL) {
                /* accepted by the node, refused for storing: keys all 0x00/0xFF, or text that is not UTF-8
                 */
                field = NULL;
                check(prov_params_validate(&n, PROV_PROFILE_SUBG, false, false, &field) == -EINVAL);
                check(field &&
                      (streq(field, "enc_key") || streq(field, "auth_key") || streq(field, "user_items")));
                return 0;
        }
        check(len > 0);

        check(provdata_decode(buf, (size_t)len, &q) == 0);
        check(params_equal(&p, &q));
        check(provdata_encode(&q, buf2, sizeof(buf2)) == len);
        check(memcmp(buf, buf2, (size_t)len) == 0);
        check(provdata_encode(&q, buf2, (size_t)len - 1) == -EMSGSIZE);

        for (ProvProfile pr = 0; pr < _PROV_PROFILE_MAX; pr++)
                for (int secured = 0; secured <= 1; secured++) {
                        r = prov_params_validate(&n, pr, secured, false, NULL);
                        if (r == -EINVAL) {
                                check(!prov_channel_valid(pr, n.channel));
                                continue;
                        }
                        check(r == ((size_t)len <= prov_cbor_max(pr, secured) ? 0 : -EMSGSIZE));
                }
        return 0;
}
