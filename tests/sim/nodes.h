/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Emulated joining nodes (ref-provisioning.md §13): what the 2.4 GHz SDK node firmware does with its START
 * retries and with what it receives. The node logic is pure: time comes in as `now`, randomness from a
 * SimRand, and packets to send come out in a SimPacket, so it runs the same on a fake clock in unit tests
 * and on the real clock in the simulator.
 *
 * The crypto is deliberately the node's own: a CTR built from aes128_encrypt_block() with the counter block
 * held as four uint32 words and word-wise carries (as the SDK does), the MIC checked with aes128_cmac(). It
 * does not reuse prov_ctr_xor() or prov_data_open(), so a bug there cannot hide itself. */

#include "meshprov-limits.h"
#include "macro.h"
#include "provdata.h"
#include "simrand.h"
#include "time-util.h"

/* Endpoints (ref-provisioning.md §2.1). */
#define SIM_EP_UP_SRC_24G   246u
#define SIM_EP_UP_DST_24G   255u
#define SIM_EP_DOWN_SRC_24G 255u
#define SIM_EP_DOWN_DST_24G 246u
#define SIM_EP_UP_SRC_5G    160u
#define SIM_EP_UP_DST_5G    39u
#define SIM_EP_DOWN_SRC_5G  160u
#define SIM_EP_DOWN_DST_5G  40u

#define SIM_NODE_RETRIES_DEFAULT 3u

/* What the daemon is told about the node (in the whitelist the simulator writes), and so what should happen.
 */
typedef enum SimNodeKind {
        SIM_NODE_WHITELISTED,  /* known with its method and key: provisioned */
        SIM_NODE_UNKNOWN,      /* not in the whitelist: NACK NOT_AUTHORIZED */
        SIM_NODE_WRONG_METHOD, /* whitelisted with another method: NACK METHOD_NOT_SUPPORTED */
        SIM_NODE_WRONG_KEY,    /* whitelisted with another factory key: every DATA fails the MIC, gives up */
        SIM_NODE_DISABLED,     /* whitelisted but disabled: NACK NOT_AUTHORIZED */
        SIM_NODE_UNSECURED,    /* method 0, whitelisted: provisioned if the network allows it, else NACK */
        _SIM_NODE_KIND_MAX,
        _SIM_NODE_KIND_INVALID = -EINVAL,
} SimNodeKind;

typedef enum SimNodeOutcome {
        SIM_NODE_PENDING,     /* not started or still trying */
        SIM_NODE_PROVISIONED, /* accepted a DATA and sent DATA_ACK */
        SIM_NODE_NACKED,      /* got a NACK with its session id */
        SIM_NODE_GAVE_UP,     /* retries exhausted */
        _SIM_NODE_OUTCOME_MAX,
        _SIM_NODE_OUTCOME_INVALID = -EINVAL,
} SimNodeOutcome;

typedef enum SimNodeState {
        SIM_NODE_IDLE,
        SIM_NODE_WAIT_DATA,
        SIM_NODE_DONE,
        _SIM_NODE_STATE_MAX,
        _SIM_NODE_STATE_INVALID = -EINVAL,
} SimNodeState;

/* Why a received packet was not acceptable (each costs one retry). */
typedef enum SimNodeReject {
        SIM_NODE_REJECT_SHORT,     /* shorter than the header / DATA prefix */
        SIM_NODE_REJECT_TYPE,      /* not DATA or NACK */
        SIM_NODE_REJECT_SESSION,   /* session id is not ours */
        SIM_NODE_REJECT_KEY_INDEX, /* 0 for a secured node, not 0 for an unsecured one */
        SIM_NODE_REJECT_MIC,
        SIM_NODE_REJECT_CBOR, /* provdata_decode() refused it (includes missing ids 0-3) */
        _SIM_NODE_REJECT_MAX,
        _SIM_NODE_REJECT_INVALID = -EINVAL,
} SimNodeReject;

typedef struct SimNodeConfig {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        uint8_t method;                             /* 0, 1 or 3 */
        uint8_t factory_key[PROV_FACTORY_KEY_SIZE]; /* [auth 16][enc 16], what the node really has */
        uint32_t address;                           /* its own address, sent in every header */
        uint32_t proxy;                             /* mesh source address it is heard through */
        bool five_g;                                /* 5G Mesh endpoints and 135-byte buffer */
        SimNodeKind kind;
        usec_t timeout;    /* first wait after START; doubled on each retry */
        unsigned nb_retry; /* STARTs after the first; default 3 */
        /* The session id is drawn at random unless session_id_set. A node checks only the session id of what
         * it receives (ref-provisioning.md §13.1), and the simulator hands a proxy's downlinks to every node
         * behind it: nodes sharing a proxy get distinct ids, so that one's NACK does not end another's run
         * (which a real mesh would risk once in 256 pairs, and which would make a run's outcome unclear). */
        bool session_id_set;
        uint8_t session_id;
} SimNodeConfig;

/* One packet the node sends (START or DATA_ACK), to be heard by the sink as a DATA_RX indication. */
typedef struct SimPacket {
        uint8_t buf[PROV_PDU_MAX];
        size_t len;
        uint8_t src_ep, dst_ep;
} SimPacket;

/* What the node keeps of an accepted DATA (the full ProvParams is 4 KiB; this is what the summary needs). */
typedef struct SimNodeParams {
        uint8_t enc_key[PROV_KEY_SIZE];
        uint8_t auth_key[PROV_KEY_SIZE];
        uint32_t network_address;
        uint32_t channel;
        bool has_node_address;
        uint32_t node_address;
        bool has_role;
        uint8_t role;
        size_t n_user_items;
} SimNodeParams;

typedef struct SimNode {
        SimNodeConfig cfg;
        SimNodeState state;
        SimNodeOutcome outcome;

        uint8_t iv[PROV_IV_SIZE]; /* per run (zero for method 0), the same in every retry */
        uint8_t session_id;
        unsigned retry;  /* failed attempts so far */
        usec_t timeout;  /* current wait */
        usec_t deadline; /* USEC_INFINITY when not waiting */
        usec_t started_at, finished_at;

        unsigned n_starts; /* STARTs sent (attempts) */
        unsigned n_rejects[_SIM_NODE_REJECT_MAX];
        unsigned n_ignored;    /* packets after the run ended */
        uint8_t nack_reason;   /* when NACKED; 0xFF if the NACK had no reason byte */
        uint16_t data_counter; /* counter of the accepted DATA */
        uint8_t data_key_index;
        SimNodeParams params; /* when PROVISIONED */
} SimNode;

void sim_node_init(SimNode *n, const SimNodeConfig *cfg);

/* Starts a provisioning run: draws IV (secured methods) and session id, sends the first START. */
int sim_node_start(SimNode *n, usec_t now, SimRand *rng, SimPacket *ret);

/* The same with a given IV (ignored for method 0) and session id, for tests that replay known vectors. */
int sim_node_start_fixed(SimNode *n, usec_t now, const uint8_t iv[static PROV_IV_SIZE], uint8_t session_id,
                         SimPacket *ret);

/* Call when now >= sim_node_deadline(). Returns 1 with a re-sent START in *ret, or 0 when the node gave up
 * (or there was nothing to do). */
int sim_node_on_timer(SimNode *n, usec_t now, SimPacket *ret);

/* A downlink packet for this node (already known to be on its downlink endpoints). Returns 1 if *ret holds a
 * packet to send: the DATA_ACK after an acceptable DATA, or a re-sent START after an unacceptable packet;
 * 0 otherwise (NACK accepted, gave up, or ignored because the run has ended). */
int sim_node_on_packet(SimNode *n, usec_t now, const uint8_t *buf, size_t len, SimPacket *ret);

static inline usec_t sim_node_deadline(const SimNode *n) {
        return n->state == SIM_NODE_WAIT_DATA ? n->deadline : USEC_INFINITY;
}

unsigned sim_node_rejects_total(const SimNode *n);
size_t sim_node_pdu_max(const SimNode *n);
uint8_t sim_node_down_src_ep(const SimNode *n);
uint8_t sim_node_down_dst_ep(const SimNode *n);

/* The node's own CTR: ICB = IV + counter (word 0 plus carries through words 1..3), +1 per block the same
 * way. Exposed for tests. */
int sim_node_ctr_xor(const uint8_t enc_key[static 16], const uint8_t iv[static 16], uint16_t counter,
                     uint8_t *buf, size_t len);

const char *sim_node_kind_to_string(SimNodeKind k);
SimNodeKind sim_node_kind_from_string(const char *s);
const char *sim_node_outcome_to_string(SimNodeOutcome o);
const char *sim_node_reject_to_string(SimNodeReject r);
