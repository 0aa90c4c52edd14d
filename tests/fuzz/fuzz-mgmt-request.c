/* SPDX-License-Identifier: Apache-2.0 */
/* Management API decoders on arbitrary bytes. The first byte picks the operation (the topic's <op>), the
 * rest is the payload. Checks: the request decoder never crashes or leaks, answers every refusal with a
 * known code, and a request it accepts (bulk: whose items pass mgmt_request_bulk_check()) re-encodes to
 * bytes that decode again and re-encode to the same bytes. The response, event and status decoders
 * (meshprovctl's side) run on the same bytes. */
#include <stdlib.h>

#include "mgmtapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

/* A decoded request made encodable: bulk items copied out into arrays. */
static int reencode(const MgmtRequest *q, uint8_t **ret, size_t *ret_len) {
        _cleanup_free_ MgmtNetworkPut *nets = NULL;
        _cleanup_free_ MgmtDevicePut *devs = NULL;
        MgmtRequest copy = *q;

        if (q->op == MGMT_OP_DEVICE_BULK_PUT) {
                if (q->bulk.n_networks > 0) {
                        nets = new0(MgmtNetworkPut, q->bulk.n_networks);
                        check(nets);
                }
                if (q->bulk.n_devices > 0) {
                        devs = new0(MgmtDevicePut, q->bulk.n_devices);
                        check(devs);
                }
                for (size_t i = 0; i < q->bulk.n_networks; i++)
                        check(mgmt_request_bulk_network(q, i, &nets[i]) == 0);
                for (size_t i = 0; i < q->bulk.n_devices; i++)
                        check(mgmt_request_bulk_device(q, i, &devs[i]) == 0);
                check(mgmt_request_bulk_network(q, q->bulk.n_networks, &(MgmtNetworkPut){}) == -EINVAL);
                copy.bulk.networks = nets;
                copy.bulk.devices = devs;
        }
        copy.internal = NULL;
        return mgmt_request_encode(&copy, ret, ret_len);
}

static void fuzz_request(MgmtOp op, const uint8_t *data, size_t size) {
        _cleanup_(mgmt_request_freep) MgmtRequest *a = NULL, *b = NULL;
        _cleanup_free_ uint8_t *wire = NULL, *wire2 = NULL;
        size_t n = 0, m = 0;
        MgmtError err;
        int r;

        r = mgmt_request_decode(data, size, op, &a, &err);
        if (r < 0) {
                check(err.code > MGMT_OK && err.code < _MGMT_CODE_MAX);
                check(err.message[0] != '\0');
                check(strnlen(err.request_id, sizeof(err.request_id)) <= MGMT_REQUEST_ID_MAX);
                return;
        }
        check(a->op == op);
        if (op == MGMT_OP_DEVICE_BULK_PUT) {
                MgmtError e = {};
                if (mgmt_request_bulk_check(a, 0, 0, &e) < 0) {
                        check(e.n_items > 0 && e.code != MGMT_OK);
                        return;
                }
                check(e.n_items == 0);
        }

        r = reencode(a, &wire, &n);
        if (r == -EMSGSIZE)
                return; /* a request near the cap may grow by the defaults it did not spell out */
        check(r == 0);
        r = mgmt_request_decode(wire, n, op, &b, &err);
        check(r == 0);
        if (op == MGMT_OP_DEVICE_BULK_PUT) {
                MgmtError e = {};
                check(mgmt_request_bulk_check(b, 0, 0, &e) == 0);
        }
        check(reencode(b, &wire2, &m) == 0);
        check(m == n && memcmp(wire, wire2, n) == 0);
}

static void fuzz_answers(MgmtOp op, const uint8_t *data, size_t size) {
        _cleanup_(mgmt_response_freep) MgmtResponse *r = NULL;
        _cleanup_free_ uint8_t *wire = NULL;
        static MgmtStatus s;
        MgmtEvent e;
        size_t n;

        if (mgmt_response_decode(data, size, op, &r) >= 0) {
                check(r->op == op);
                /* whatever a daemon may send decodes; what we decoded encodes again */
                check(mgmt_response_encode(r, &wire, &n) == 0);
        }
        (void)mgmt_event_decode(data, size, &e);
        (void)mgmt_status_decode(data, size, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        MgmtOp op;

        if (size < 1)
                return 0;
        op = (MgmtOp)(data[0] % _MGMT_OP_MAX);
        fuzz_request(op, data + 1, size - 1);
        fuzz_answers(op, data + 1, size - 1);
        return 0;
}
