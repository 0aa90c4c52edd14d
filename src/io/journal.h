/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Structured logging to the journal. When meshprovd runs under systemd ($JOURNAL_STREAM points at our
 * stderr) log lines go through sd_journal_sendv() with their fields (SINK=, GATEWAY=, UID=, RESULT=,
 * MESSAGE_ID=, ...); otherwise to stderr. */

#include "macro.h"

/* Installs the journal backend if stderr is connected to the journal (or `force`). Returns true if it did.
 */
bool journal_log_setup(bool force);
