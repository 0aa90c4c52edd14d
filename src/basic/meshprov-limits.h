/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <limits.h>

/* Every cap on something a peer or a user controls lives here. */

/* Provisioning protocol (ref-provisioning.md §2.3, §4, §11). */
#define PROV_UID_MAX           79u  /* bytes; 102 - 6 - 1 - 16 */
#define PROV_PDU_MAX_24G       102u /* 2.4 GHz and Sub-GHz node buffer */
#define PROV_PDU_MAX_5G        135u /* 5G Mesh node buffer */
#define PROV_PDU_MAX           PROV_PDU_MAX_5G
#define PROV_KEY_SIZE          16u
#define PROV_FACTORY_KEY_SIZE  32u /* [auth 16][enc 16] */
#define PROV_IV_SIZE           16u
#define PROV_MIC_SIZE          5u
#define PROV_DATA_HEADER_SIZE  9u   /* type, address[4], session, key index, counter[2] */
#define PROV_USER_STRING_MAX   94u  /* node-side limit for byte and text strings */
#define PROV_USER_ITEMS_MAX    128u /* ids 128..255 */
#define PROV_EXTENDED_UID_SIZE 34u

/* Names chosen by people: networks, vendors, sinks, instance ids. */
#define NAME_MAX_LEN 64u
/* Gateway and sink ids taken from MQTT topics. */
#define GW_ID_MAX_LEN      128u
#define SINK_ID_MAX_LEN    64u
#define MQTT_TOPIC_MAX_LEN 512u

/* Gateway API: a received_data event carrying a provisioning packet is a few hundred bytes; anything far
 * larger is refused before protobuf-c allocates for it. */
#define GWAPI_PAYLOAD_MAX 4096u
#define GWAPI_PENDING_MAX 4096u /* send_data requests awaiting their gw-response */
#define GWAPI_APP_PAYLOAD_MAX                                                        \
        1500u /* application payload in one packet (c-mesh-api MAX_FULL_PACKET_SIZE) \
               */
#define GWAPI_UNPACK_MEMORY_MAX (128u << 10) /* heap protobuf-c may use to unpack one message */
#define GWAPI_STATUS_SINKS_MAX  16u  /* sink configs in one status event (the reference gateway has <= 10) */
#define GWAPI_FEATURES_MAX      16u  /* gateway features listed in one status event */
#define GWAPI_GW_STRING_MAX     128u /* gw_model, gw_version */

/* Dual-MCU UART (ref-dualmcu.md §2). */
#define SINK_FRAME_PAYLOAD_MAX 255u
#define SINK_FRAME_MAX         (3u + SINK_FRAME_PAYLOAD_MAX + 2u)
#define SINKS_MAX              16u
#define SINK_DEVICE_FRAME_MAX  128u /* what a sink itself accepts: ~126 bytes + CRC (the simulator) */
#define SINK_TX_QUEUE_MAX      256u /* downlinks waiting per sink behind the ones in flight */
#define SINK_POLL_BURST_MAX    30u  /* indications taken in one poll cycle (as c-mesh-api) */
#define SINK_STALE_FRAMES_MAX  50u  /* mismatched frames skipped while waiting for one confirm */
#define SINK_ECHO_RESENDS_MAX  3u   /* re-sends of one request after SDK16 CRC-error echoes */

/* Engine. */
#define PROV_ACTIONS_MAX 8u
#define SESSIONS_DEFAULT 20000u
#define SESSIONS_MAX     1000000u

/* Files. */
#define CONFIG_FILE_MAX (1u << 20)
#define IMPORT_FILE_MAX (256u << 20)
#define KEY_FILE_MAX    4096u

/* Configuration (src/io/conf.c). CONFIG_FILE_MAX applies to each file. */
#define CONF_LINE_MAX          4096u                  /* bytes in one line */
#define CONF_DROPINS_MAX       128u                   /* files read from <main>.d/ */
#define CONF_WARNINGS_MAX      256u                   /* kept per load; further ones are only counted */
#define CONF_TIMESPAN_MAX_SEC  (36500ull * 24 * 3600) /* 100 years: the largest retention or hold time */
#define CONF_HOST_MAX_LEN      253u                   /* MQTT broker host name or address */
#define MQTT_CLIENT_ID_MAX_LEN 128u
#define MQTT_SEND_RETRIES_MAX  100u
#define SINK_IN_FLIGHT_MAX     64u /* MaxInFlight= per sink */

/* Store. */
#define AUDIT_QUEUE_MAX 8192u
#define USER_ITEMS_MAX  PROV_USER_ITEMS_MAX

/* Management API (issue: fleet-manager API). */
#define MGMT_REQUEST_MAX    (16u << 20)
#define MGMT_BULK_ITEMS_MAX 20000u
#define MGMT_PAGE_MAX       1000u
/* MQTT messages up to this size are handed to the API, so that a request over MGMT_REQUEST_MAX still gets a
 * TOO_LARGE answer (libmosquitto has read it whole anyway); larger ones are dropped by the MQTT adapter. */
#define MGMT_MESSAGE_IN_MAX      (64u << 20)
#define MGMT_UNPACK_MEMORY_MAX   (64u << 20) /* heap protobuf-c may use to unpack one request or response */
#define MGMT_RESPONSE_MAX        (32u << 20) /* one encoded response (meshprovctl refuses larger ones) */
#define MGMT_REQUEST_ID_MAX      128u        /* request_id: printable ASCII */
#define MGMT_BATCH_ID_MAX        64u         /* staged bulk upload id: printable ASCII */
#define MGMT_ITEM_ERRORS_MAX     16u         /* per-item errors listed in one answer */
#define MGMT_STAGED_ITEMS_MAX    IMPORT_NODES_MAX /* devices + networks in one staged bulk upload */
#define MGMT_STAGED_BYTES_MAX    (256u << 20)     /* request bytes kept for one staged bulk upload */
#define MGMT_STAGED_IDLE_SEC     120u   /* a staged upload without a new chunk for this long is dropped */
#define MGMT_EVENT_MAX           2048u  /* one encoded provisioning event */
#define MGMT_STATUS_MAX          16384u /* one encoded status */
#define MGMT_FINGERPRINT_MAX_LEN 64u    /* key fingerprints in answers */
#define MGMT_RESULT_MAX_LEN      31u    /* audit result names ("not_authorized") */
#define MGMT_DETAIL_MAX_LEN      127u   /* audit detail text */
#define MGMT_STATUS_STRING_MAX   256u   /* broker host, sink device path, version in the status */
#define MGMT_STATS_RESULTS_MAX   64u    /* distinct results counted in one stats answer */
#define MGMT_STATS_ROUTES_MAX    256u   /* gateway/sink pairs listed in one stats answer */

/* meshprovctl import of wm-provisioning YAML (IMPORT_FILE_MAX above bounds the file). */
#define IMPORT_DEPTH_MAX          16u   /* nesting of YAML sequences and mappings */
#define IMPORT_SCALAR_MAX         4096u /* bytes in one YAML scalar */
#define IMPORT_ENTRY_NODES_MAX    4096u /* YAML nodes in one network or node entry (or an anchored section) */
#define IMPORT_ANCHORS_MAX        1024u    /* anchors defined in one file */
#define IMPORT_ANCHORED_NODES_MAX 65536u   /* YAML nodes kept alive for later aliases */
#define IMPORT_MERGE_WORK_MAX     65536u   /* pairs visited resolving merge keys (<<) in one entry */
#define IMPORT_TOP_KEYS_MAX       64u      /* top-level keys */
#define IMPORT_NETWORKS_MAX       4096u    /* networks in one file */
#define IMPORT_NODES_MAX          1000000u /* nodes in one file */
