/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Aligned text tables for people: a header row, then rows of cells; columns are left-aligned and separated
 * by two spaces, without trailing blanks. Cells are escaped for the terminal (see terminal_escape()), so
 * names and labels chosen by someone else cannot move the cursor or change colours. */

#include <stdio.h>

#include "macro.h"

typedef struct Table Table;

/* Headers as a NULL-terminated list. NULL on OOM or without columns. */
Table *table_new(const char *header, ...);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Appends one cell; a row is complete after one cell per column. NULL is shown as "-". */
int table_add_cell(Table *t, const char *s);
int table_add_cellf(Table *t, const char *format, ...) _printf_(2, 3);
/* Appends a full row: one cell per column. */
int table_add_row(Table *t, const char *const *cells);

size_t table_rows(const Table *t);
/* Prints the table; an incomplete last row is padded with "-". 0 or -EIO. */
int table_print(Table *t, FILE *f);
