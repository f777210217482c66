/* The operator API's README example, compiled and run by the tests
 * (example_op_quickstart): LayerNormalization over the last axis of a
 * [2, 4] float32 tensor, on the caller's buffers. */
#include <onnorm_ops.h>
#include <stdio.h>

int main(void)
{
    float x[8] = {1, 2, 3, 4, -1, 0, 1, 2}, gamma[4] = {1, 1, 1, 1}, beta[4] = {0}, y[8];
    onnorm_tensor tx = {.dtype = ONNORM_FLOAT, .rank = 2, .dims = {2, 4}, .data = x};
    onnorm_tensor ty = {.dtype = ONNORM_FLOAT, .rank = 2, .dims = {2, 4}, .data = y};
    onnorm_tensor tg = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {4}, .data = gamma};
    onnorm_tensor tb = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {4}, .data = beta};
    onnorm_attr attrs[] = {onnorm_attr_int("axis", -1), onnorm_attr_float("epsilon", 1e-5f)};
    onnorm_op *op;
    onnorm_error e;
    if (onnorm_op_create("", "LayerNormalization", 17, attrs, 2, &op, &e) ||
        onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&tx, &tg, &tb}, 1,
                        (onnorm_tensor *[]){&ty}, 1, &e) ||
        onnorm_op_run(op, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    printf("%.4f %.4f %.4f %.4f\n", y[0], y[1], y[2], y[3]); /* -1.3416 -0.4472 0.4472 1.3416 */
    onnorm_op_free(op);
    return 0;
}
