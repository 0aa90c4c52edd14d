/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>

#include "table.h"
#include "text-util.h"

#define TABLE_COLUMNS_MAX 32u

typedef struct Cell {
        char *text; /* escaped */
        size_t width;
} Cell;

struct Table {
        size_t n_columns;
        Cell *cells; /* header row first */
        size_t n_cells, n_alloc;
};

static int table_push(Table *t, const char *s) {
        Cell c = {};

        if (t->n_cells == t->n_alloc) {
                size_t na = t->n_alloc ? t->n_alloc * 2 : 64;
                Cell *n = reallocarray(t->cells, na, sizeof(Cell));
                if (!n)
                        return -ENOMEM;
                t->cells = n;
                t->n_alloc = na;
        }
        if (!s)
                s = "-";
        c.text = terminal_escape(s, strlen(s), &c.width);
        if (!c.text)
                return -ENOMEM;
        t->cells[t->n_cells++] = c;
        return 0;
}

Table *table_new(const char *header, ...) {
        _cleanup_(table_freep) Table *t = NULL;
        va_list ap;

        if (!header)
                return NULL;
        t = new0(Table, 1);
        if (!t)
                return NULL;

        va_start(ap, header);
        for (const char *h = header; h; h = va_arg(ap, const char *)) {
                if (t->n_columns >= TABLE_COLUMNS_MAX || table_push(t, h) < 0) {
                        va_end(ap);
                        return NULL;
                }
                t->n_columns++;
        }
        va_end(ap);
        return TAKE_PTR(t);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add_cell(Table *t, const char *s) {
        return table_push(t, s);
}

int table_add_cellf(Table *t, const char *format, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return table_push(t, s);
}

int table_add_row(Table *t, const char *const *cells) {
        for (size_t i = 0; i < t->n_columns; i++) {
                int r = table_push(t, cells[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

size_t table_rows(const Table *t) {
        return DIV_ROUND_UP(t->n_cells, t->n_columns) - 1;
}

int table_print(Table *t, FILE *f) {
        size_t widths[TABLE_COLUMNS_MAX] = {};
        int r;

        while (t->n_cells % t->n_columns != 0) {
                r = table_push(t, "-");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < t->n_cells; i++)
                widths[i % t->n_columns] = MAX(widths[i % t->n_columns], t->cells[i].width);

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;
                bool last = col == t->n_columns - 1;

                fputs(t->cells[i].text, f);
                if (last)
                        fputc('\n', f);
                else
                        fprintf(f, "%*s", (int)(widths[col] - t->cells[i].width + 2), "");
        }
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}
