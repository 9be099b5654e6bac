/* The per-model error detail. Formatted by hand: the library links no stdio. */
#include "internal.h"

static size_t put_str(char *buf, size_t at, const char *s)
{
    while (*s && at + 1 < RILL_ERR_LEN)
        buf[at++] = *s++;
    buf[at] = '\0';
    return at;
}

static size_t put_size(char *buf, size_t at, size_t v)
{
    char digits[3 * sizeof(size_t) + 1];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && at + 1 < RILL_ERR_LEN)
        buf[at++] = digits[--n];
    buf[at] = '\0';
    return at;
}

void rl_clear_error(rill_model *m)
{
    m->err[0] = '\0';
}

int rl_fail(rill_model *m, int status, const char *what)
{
    put_str(m->err, 0, what);
    return status;
}

int rl_fail_call(rill_model *m, int status, const char *call, const char *what)
{
    size_t at = put_str(m->err, 0, call);
    at = put_str(m->err, at, ": ");
    put_str(m->err, at, what);
    return status;
}

/* "rill_model_set: RILL_<name>: <what>" */
int rl_fail_param(rill_model *m, int status, const char *name, const char *what)
{
    size_t at = put_str(m->err, 0, "rill_model_set: RILL_");
    at = put_str(m->err, at, name);
    at = put_str(m->err, at, ": ");
    put_str(m->err, at, what);
    return status;
}

/* "<call>: row R, column C <what>"; col == (size_t)-1 names the label. */
int rl_fail_at(rill_model *m, int status, const char *call, const char *what, size_t row,
               size_t col)
{
    size_t at = put_str(m->err, 0, call);
    at = put_str(m->err, at, ": row ");
    at = put_size(m->err, at, row);
    if (col == (size_t)-1) {
        at = put_str(m->err, at, ", label ");
    } else {
        at = put_str(m->err, at, ", column ");
        at = put_size(m->err, at, col);
        at = put_str(m->err, at, " ");
    }
    put_str(m->err, at, what);
    return status;
}

int rl_fail_need(rill_model *m, int status, const char *call, size_t have, size_t need)
{
    size_t at = put_str(m->err, 0, call);
    at = put_str(m->err, at, ": the buffer holds ");
    at = put_size(m->err, at, have);
    at = put_str(m->err, at, " bytes, ");
    at = put_size(m->err, at, need);
    put_str(m->err, at, " are needed");
    return status;
}

const char *rill_model_error(const rill_model *m)
{
    return m ? m->err : "rill_model_error: model is NULL";
}
