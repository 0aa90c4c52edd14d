/* SPDX-License-Identifier: Apache-2.0 */
#include "sinkframe.h"

#include "cursor.h"

uint16_t sink_crc16_update(uint16_t crc, const uint8_t *p, size_t n) {
        assert(p || n == 0);

        /* Bitwise MSB-first CRC; frames are at most a few hundred bytes, a table buys nothing here. */
        for (size_t i = 0; i < n; i++) {
                crc ^= (uint16_t)(p[i] << 8);
                for (unsigned k = 0; k < 8; k++)
                        crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
        return crc;
}

static void put_escaped(Writer *w, uint8_t b) {
        if (b == SINK_SLIP_END) {
                (void)writer_put_u8(w, SINK_SLIP_ESC);
                (void)writer_put_u8(w, SINK_SLIP_ESC_END);
        } else if (b == SINK_SLIP_ESC) {
                (void)writer_put_u8(w, SINK_SLIP_ESC);
                (void)writer_put_u8(w, SINK_SLIP_ESC_ESC);
        } else
                (void)writer_put_u8(w, b);
}

int sink_slip_encode(SinkDirection dir, const uint8_t *frame, size_t len, uint8_t *buf, size_t bufsz) {
        Writer w = WRITER_INIT(buf, bufsz);
        unsigned n_lead;
        uint16_t crc;

        if (dir == SINK_TO_DEVICE)
                n_lead = 3;
        else if (dir == SINK_TO_HOST)
                n_lead = 1;
        else
                return -EINVAL;
        if (!frame || len < SINK_FRAME_HEADER_SIZE || len > SINK_FRAME_MAX - SINK_FRAME_CRC_SIZE)
                return -EINVAL;
        if (frame[2] != len - SINK_FRAME_HEADER_SIZE)
                return -EINVAL;

        crc = sink_crc16(frame, len);
        for (unsigned i = 0; i < n_lead; i++)
                (void)writer_put_u8(&w, SINK_SLIP_END);
        for (size_t i = 0; i < len; i++)
                put_escaped(&w, frame[i]);
        put_escaped(&w, (uint8_t)(crc & 0xFFu)); /* LSB first */
        put_escaped(&w, (uint8_t)(crc >> 8));
        (void)writer_put_u8(&w, SINK_SLIP_END);

        if (writer_status(&w) < 0)
                return -EMSGSIZE;
        return (int)w.len;
}

int sink_frame_encode(SinkDirection dir, uint8_t primitive, uint8_t frame_id, const uint8_t *payload,
                      size_t payload_len, uint8_t *buf, size_t bufsz) {
        uint8_t raw[SINK_FRAME_MAX];

        if (payload_len > SINK_FRAME_PAYLOAD_MAX || (!payload && payload_len > 0))
                return -EINVAL;
        raw[0] = primitive;
        raw[1] = frame_id;
        raw[2] = (uint8_t)payload_len;
        if (payload_len > 0)
                memcpy(raw + SINK_FRAME_HEADER_SIZE, payload, payload_len);
        return sink_slip_encode(dir, raw, SINK_FRAME_HEADER_SIZE + payload_len, buf, bufsz);
}

int sink_echo_encode(SinkEchoError err, uint16_t rxlen, uint8_t *buf, size_t bufsz) {
        if (err < SINK_ECHO_BAD_CRC || err > SINK_ECHO_TOO_SHORT)
                return -EINVAL;
        if (!buf || bufsz < SINK_ECHO_WIRE_SIZE)
                return -EMSGSIZE;
        buf[0] = SINK_SLIP_END;
        buf[1] = (uint8_t)err;
        buf[2] = (uint8_t)(rxlen & 0xFFu);
        buf[3] = (uint8_t)(rxlen >> 8);
        buf[4] = 0xFF;
        buf[5] = 0xFF;
        buf[6] = SINK_SLIP_END;
        return (int)SINK_ECHO_WIRE_SIZE;
}

int sink_frame_parse(const uint8_t *buf, size_t len, SinkFrame *ret) {
        Cursor c = CURSOR_INIT(buf, len);
        SinkFrame f = {};
        uint8_t n;
        uint16_t crc;
        int r;

        if (!buf || len < SINK_FRAME_HEADER_SIZE + SINK_FRAME_CRC_SIZE)
                return -EBADMSG;
        if (len > SINK_FRAME_MAX)
                return -EMSGSIZE;

        r = cursor_get_u8(&c, &f.primitive);
        if (r < 0)
                return r;
        r = cursor_get_u8(&c, &f.frame_id);
        if (r < 0)
                return r;
        r = cursor_get_u8(&c, &n);
        if (r < 0)
                return r;
        if (cursor_left(&c) != (size_t)n + SINK_FRAME_CRC_SIZE)
                return -EBADMSG;
        f.payload_len = n;
        r = cursor_get_bytes(&c, n, &f.payload);
        if (r < 0)
                return r;
        r = cursor_get_le16(&c, &crc);
        if (r < 0)
                return r;
        if (crc != sink_crc16(buf, len - SINK_FRAME_CRC_SIZE))
                return -EBADMSG;

        f.raw = buf;
        f.raw_len = len - SINK_FRAME_CRC_SIZE;
        if (ret)
                *ret = f;
        return 0;
}

/* The device's error echo is 5 unescaped bytes that fail the CRC: err(1..3) lo hi FF FF. */
static bool parse_echo(const uint8_t *buf, size_t len, SinkEcho *ret) {
        Cursor c = CURSOR_INIT(buf, len);
        uint8_t err;
        uint16_t rxlen, marker;

        if (len != SINK_ECHO_WIRE_SIZE - 2)
                return false;
        if (cursor_get_u8(&c, &err) < 0 || cursor_get_le16(&c, &rxlen) < 0 ||
            cursor_get_le16(&c, &marker) < 0)
                return false;
        if (err < SINK_ECHO_BAD_CRC || err > SINK_ECHO_TOO_SHORT || marker != 0xFFFFu)
                return false;
        if (ret)
                *ret = (SinkEcho){ .error = err, .rxlen = rxlen };
        return true;
}

/* Whether the last two bytes are the CRC of the others (len >= 2). */
static bool crc_matches(const uint8_t *buf, size_t len) {
        Cursor c = CURSOR_INIT(buf, len);
        const uint8_t *body;
        uint16_t crc;

        if (len < SINK_FRAME_CRC_SIZE || cursor_get_bytes(&c, len - SINK_FRAME_CRC_SIZE, &body) < 0 ||
            cursor_get_le16(&c, &crc) < 0)
                return false;
        return crc == sink_crc16(body, len - SINK_FRAME_CRC_SIZE);
}

void sink_frame_decoder_init(SinkFrameDecoder *d, size_t max_frame) {
        assert(d);

        *d = (SinkFrameDecoder){
                .max_frame = (max_frame == 0 || max_frame > SINK_FRAME_MAX) ? SINK_FRAME_MAX : max_frame,
        };
}

void sink_frame_decoder_reset(SinkFrameDecoder *d) {
        assert(d);

        d->len = 0;
        d->synced = false;
        d->escape = false;
        d->discarding = false;
}

/* Drops bytes up to and including the next END; the decoder stays in "discarding" if none is there yet. */
static void skip_to_end(SinkFrameDecoder *d, Cursor *c) {
        uint8_t b;

        d->len = 0;
        d->escape = false;
        d->discarding = true;
        while (cursor_get_u8(c, &b) >= 0)
                if (b == SINK_SLIP_END) {
                        d->discarding = false;
                        return;
                }
}

int sink_frame_decoder_feed(SinkFrameDecoder *d, const uint8_t **data, size_t *len, SinkFrame *ret_frame,
                            SinkEcho *ret_echo) {
        Cursor c;
        uint8_t b;
        int r = SINK_FEED_MORE;

        assert(d);
        assert(data);
        assert(len);
        assert(*data || *len == 0);

        c = CURSOR_INIT(*data, *len);
        while (cursor_get_u8(&c, &b) >= 0) {
                if (!d->synced) {
                        if (b == SINK_SLIP_END) {
                                d->synced = true;
                                d->len = 0;
                                d->escape = false;
                        } else
                                d->n_unsynced_bytes++;
                        continue;
                }
                if (d->discarding) {
                        if (b == SINK_SLIP_END)
                                d->discarding = false;
                        continue;
                }

                if (b == SINK_SLIP_END) {
                        size_t n = d->len;
                        SinkFrame f;
                        SinkEcho e;

                        d->len = 0;
                        if (d->escape) { /* ESC END: the frame is broken; this END already delimits */
                                d->escape = false;
                                d->last_error = SINK_FRAME_ERROR_ESCAPE;
                                d->last_len = n;
                                r = -EBADMSG;
                                break;
                        }
                        if (n == 0)
                                continue; /* runs of END are harmless */
                        if (n <= SINK_FRAME_NOISE_MAX) {
                                d->n_noise++;
                                continue;
                        }
                        d->last_len = n;
                        d->last_error = SINK_FRAME_ERROR_NONE;
                        if (sink_frame_parse(d->buf, n, &f) >= 0) {
                                if (ret_frame)
                                        *ret_frame = f;
                                r = SINK_FEED_FRAME;
                        } else if (parse_echo(d->buf, n, &e)) {
                                if (ret_echo)
                                        *ret_echo = e;
                                r = SINK_FEED_ECHO;
                        } else {
                                d->last_error = crc_matches(d->buf, n) ? SINK_FRAME_ERROR_LENGTH
                                                                       : SINK_FRAME_ERROR_CRC;
                                r = -EBADMSG;
                        }
                        break;
                }

                if (d->escape) {
                        d->escape = false;
                        if (b == SINK_SLIP_ESC_END)
                                b = SINK_SLIP_END;
                        else if (b == SINK_SLIP_ESC_ESC)
                                b = SINK_SLIP_ESC;
                        else {
                                d->last_error = SINK_FRAME_ERROR_ESCAPE;
                                d->last_len = d->len;
                                skip_to_end(d, &c);
                                r = -EBADMSG;
                                break;
                        }
                } else if (b == SINK_SLIP_ESC) {
                        d->escape = true;
                        continue;
                }

                if (d->len >= d->max_frame) {
                        d->last_error = SINK_FRAME_ERROR_OVERSIZE;
                        d->last_len = d->max_frame + 1;
                        skip_to_end(d, &c);
                        r = -EMSGSIZE;
                        break;
                }
                d->buf[d->len++] = b;
        }

        *data = c.p;
        *len = cursor_left(&c);
        return r;
}

const char *sink_echo_error_to_string(int e) {
        switch (e) {
        case SINK_ECHO_BAD_CRC:
                return "bad-crc";
        case SINK_ECHO_BAD_SIZE:
                return "bad-size";
        case SINK_ECHO_TOO_SHORT:
                return "too-short";
        default:
                return NULL;
        }
}

const char *sink_frame_error_to_string(SinkFrameError e) {
        static const char *const names[_SINK_FRAME_ERROR_MAX] = {
                [SINK_FRAME_ERROR_NONE] = "none",         [SINK_FRAME_ERROR_ESCAPE] = "bad-escape",
                [SINK_FRAME_ERROR_CRC] = "bad-crc",       [SINK_FRAME_ERROR_LENGTH] = "bad-length",
                [SINK_FRAME_ERROR_OVERSIZE] = "oversize",
        };
        return e >= 0 && e < _SINK_FRAME_ERROR_MAX ? names[e] : NULL;
}
