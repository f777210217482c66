/* The one-node elementwise-op test harness; see oprun.h. */
#include "oprun.h"

#include <string.h>

tb_model *or_model(int64_t opset, const char *op, int n, const or_arg *in, onnorm_dtype ydt,
                   tb_node **node)
{
    tb_model *b = tb_new(opset);
    const char *names[16];
    for (int i = 0; i < n && i < 16; i++) {
        names[i] = in[i].name;
        if (!in[i].name[0]) continue;
        if (in[i].constant)
            tb_init(b, in[i].name, in[i].dt, in[i].rank, in[i].dims, in[i].data);
        else
            tb_input(b, in[i].name, in[i].dt, in[i].rank, in[i].dims);
    }
    tb_node *nd = tb_node_add(b, op, "n", n, names, 1, (const char *[]){"Y"});
    if (node) *node = nd;
    tb_output(b, "Y", ydt);
    return b;
}

onnorm_status or_exec(or_run *r, tb_model *b, int n, const or_arg *in, int threads)
{
    memset(r, 0, sizeof *r);
    onnorm_status st = tb_load(b, &r->m, &r->e);
    tb_free(b);
    if (st) return st;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    if ((st = onnorm_session_create(r->m, &o, &r->s, &r->e))) return st;
    for (int i = 0; i < n; i++)
        if (in[i].name[0] && !in[i].constant &&
            (st = onnorm_session_bind_input(r->s, in[i].name, in[i].dt, in[i].dims, in[i].rank,
                                            in[i].data, &r->e)))
            return st;
    if ((st = onnorm_session_run(r->s, &r->e))) return st;
    return onnorm_session_output(r->s, "Y", &r->y, &r->e);
}

void or_done(or_run *r)
{
    onnorm_session_free(r->s);
    onnorm_model_free(r->m);
}
