/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Dual-MCU UART framing (ref-dualmcu.md §2-§3, §7.1): CRC-16/CCITT-FALSE, SLIP escaping, and an incremental
 * decoder with fixed memory.
 *
 * A decoded ("raw") frame is: primitive id, frame id, payload length N, N payload bytes, CRC-16 LSB first.
 * On the wire it is SLIP-escaped (0xC0 -> DB DC, 0xDB -> DB DD, CRC bytes included) and delimited by END
 * (0xC0): three leading ENDs host -> device, one device -> host, and one trailing END.
 *
 * Pure: no I/O, no clock, no logging. Received bytes are only read through the Cursor. */

#include "meshprov-limits.h"
#include "macro.h"

#define SINK_SLIP_END     0xC0u
#define SINK_SLIP_ESC     0xDBu
#define SINK_SLIP_ESC_END 0xDCu
#define SINK_SLIP_ESC_ESC 0xDDu

/* Header (primitive, frame id, length) and CRC around the payload. */
#define SINK_FRAME_HEADER_SIZE 3u
#define SINK_FRAME_CRC_SIZE    2u
/* Between two ENDs, fewer de-escaped bytes than this are line noise (e.g. "00 C0" while the stack stops) and
 * are dropped without an error, as the reference host does. */
#define SINK_FRAME_NOISE_MAX 3u

/* Worst-case wire size of a raw frame of n bytes (header + payload, without CRC): 3 leading ENDs, every byte
 * escaped, trailing END. */
#define SINK_SLIP_WIRE_MAX(n) (3u + 2u * ((n) + SINK_FRAME_CRC_SIZE) + 1u)

/* The SDK16 device echo for a frame it rejected: C0 err rxlen_lo rxlen_hi FF FF C0, never escaped. */
typedef enum SinkEchoError {
        SINK_ECHO_BAD_CRC = 1,
        SINK_ECHO_BAD_SIZE = 2,
        SINK_ECHO_TOO_SHORT = 3,
} SinkEchoError;
#define SINK_ECHO_WIRE_SIZE 7u

typedef enum SinkDirection {
        SINK_TO_DEVICE, /* host -> device: requests and responses, 3 leading ENDs */
        SINK_TO_HOST,   /* device -> host: confirms and indications, 1 leading END */
        _SINK_DIRECTION_MAX,
        _SINK_DIRECTION_INVALID = -EINVAL,
} SinkDirection;

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR. Check value ("123456789"):
 * 0x29B1. sink_crc16_update() continues from a previous value (start with SINK_CRC16_INIT). */
#define SINK_CRC16_INIT 0xFFFFu
uint16_t sink_crc16_update(uint16_t crc, const uint8_t *p, size_t n);
static inline uint16_t sink_crc16(const uint8_t *p, size_t n) {
        return sink_crc16_update(SINK_CRC16_INIT, p, n);
}

/* Puts the raw frame (header + payload, CRC not included) on the wire: computes and appends the CRC,
 * escapes, adds the ENDs of the direction. Returns the number of bytes written, -EMSGSIZE if bufsz is too
 * small (SINK_SLIP_WIRE_MAX(len) is always enough), -EINVAL if len is not 3..SINK_FRAME_MAX-2 or the length
 * byte does not match. */
int sink_slip_encode(SinkDirection dir, const uint8_t *frame, size_t len, uint8_t *buf, size_t bufsz);

/* Builds header + payload and puts it on the wire (sink_slip_encode()). */
int sink_frame_encode(SinkDirection dir, uint8_t primitive, uint8_t frame_id, const uint8_t *payload,
                      size_t payload_len, uint8_t *buf, size_t bufsz);

/* Writes the 7-byte SDK16 error echo. Returns SINK_ECHO_WIRE_SIZE or -EMSGSIZE. */
int sink_echo_encode(SinkEchoError err, uint16_t rxlen, uint8_t *buf, size_t bufsz);

/* One decoded frame: views into the decoder, valid until the next feed. */
typedef struct SinkFrame {
        uint8_t primitive;
        uint8_t frame_id;
        const uint8_t *payload;
        size_t payload_len;
        const uint8_t *raw; /* header + payload (no CRC): what sink_slip_encode() takes */
        size_t raw_len;
} SinkFrame;

/* An error echo: what the device says it received. */
typedef struct SinkEcho {
        uint8_t error;  /* a SinkEchoError value (1..3) */
        uint16_t rxlen; /* de-escaped bytes the device received, CRC included */
} SinkEcho;

/* Why the last frame was rejected (for statistics and for the simulator's error echo). */
typedef enum SinkFrameError {
        SINK_FRAME_ERROR_NONE,
        SINK_FRAME_ERROR_ESCAPE, /* ESC followed by something other than DC/DD */
        SINK_FRAME_ERROR_CRC,
        SINK_FRAME_ERROR_LENGTH,   /* CRC fine, length byte does not match the frame */
        SINK_FRAME_ERROR_OVERSIZE, /* more than max_frame bytes */
        _SINK_FRAME_ERROR_MAX,
        _SINK_FRAME_ERROR_INVALID = -EINVAL,
} SinkFrameError;

typedef struct SinkFrameDecoder {
        size_t max_frame; /* largest de-escaped frame accepted, CRC included */
        size_t len;
        bool synced;     /* an END has been seen: bytes before the first END are dropped */
        bool escape;     /* the previous byte was ESC */
        bool discarding; /* skipping to the next END after an error */
        size_t n_noise;  /* statistics: short runs dropped as noise, bytes dropped before the first END */
        size_t n_unsynced_bytes;
        SinkFrameError last_error; /* of the last non-zero return */
        size_t last_len; /* de-escaped bytes of that frame, CRC included (oversize: max_frame + 1) */
        uint8_t buf[SINK_FRAME_MAX];
} SinkFrameDecoder;

/* max_frame = 0 means SINK_FRAME_MAX; larger values are clamped to it. */
void sink_frame_decoder_init(SinkFrameDecoder *d, size_t max_frame);
/* Forgets a partial frame and waits for the next END (e.g. after the port was reopened). */
void sink_frame_decoder_reset(SinkFrameDecoder *d);

typedef enum SinkFeedResult {
        SINK_FEED_MORE = 0,  /* all input consumed, no complete frame */
        SINK_FEED_FRAME = 1, /* *ret_frame is set */
        SINK_FEED_ECHO = 2,  /* *ret_echo is set: the device rejected our last frame (SDK16) */
} SinkFeedResult;

/* Consumes bytes from *data and *len (advanced in place, also on error) up to the end of one frame.
 * Returns SINK_FEED_FRAME with a de-escaped, CRC-checked frame whose length byte matches, SINK_FEED_ECHO for
 * an error echo, SINK_FEED_MORE when the input is used up, -EBADMSG for a bad escape, a bad CRC or a length
 * byte that does not match, -EMSGSIZE for a frame longer than max_frame. After an error the rest of the bad
 * frame is skipped (now, or in later feeds if its END has not arrived yet): call again to continue. Either
 * ret may be NULL if the caller does not want it. */
int sink_frame_decoder_feed(SinkFrameDecoder *d, const uint8_t **data, size_t *len, SinkFrame *ret_frame,
                            SinkEcho *ret_echo);

/* Parses one complete raw frame with its CRC (as it is between two ENDs, already de-escaped). */
int sink_frame_parse(const uint8_t *buf, size_t len, SinkFrame *ret);

const char *sink_echo_error_to_string(int e);
const char *sink_frame_error_to_string(SinkFrameError e);
