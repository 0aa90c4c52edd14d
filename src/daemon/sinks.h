/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Gateway mode: one SinkLink per [Sink] section, wired to the manager. Uplinks heard by a sink become
 * ProvUplink (bearer UART, route.sink = the sink's name, scope = the sink's network address); the engine's
 * UART downlinks go to the sink named in their route; every downlink's fate goes back through
 * manager_send_result(). Each sink keeps its own state, shown in the status line. */

#include "macro.h"
#include "sink-link.h"

typedef struct Manager Manager;
typedef struct Sinks Sinks;

/* Creates and starts a link for every configured sink. A sink that cannot be opened is not an error: it is
 * DOWN and keeps trying. Fails only on -ENOMEM or bad settings (-EINVAL), after logging. */
int sinks_new(Manager *m, Sinks **ret);
Sinks *sinks_free(Sinks *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sinks *, sinks_free);

/* Queues a downlink on the sink named route.sink. -ENOENT for no such sink, else what sink_link_send() says.
 * The outcome comes later, through manager_send_result(). */
int sinks_send(Sinks *s, const char *sink, uint32_t destination, uint8_t src_ep, uint8_t dst_ep,
               const uint8_t *payload, size_t len, uint64_t downlink_id);

size_t sinks_count(const Sinks *s);
size_t sinks_up(const Sinks *s);
/* The i-th sink in configuration order, or NULL. */
SinkLink *sinks_get(const Sinks *s, size_t i);

/* "sink0 up, sink1 down" in at most size bytes; when not all fit, "sink0 up, ... and 3 more". */
void sinks_format_status(const Sinks *s, char *buf, size_t size);
