/*
 * Fuzz target: TensorProto bytes -> the tensor reader (the buffer path of
 * onnorm_tensor_read_file, onn_tensor_read_buffer). Built like fuzz_model.c.
 * A tensor that reads is checked for consistency: its element count and
 * type give its byte size, and every byte is read (ASan flags a short
 * buffer).
 */
#include "loader/loader.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    onnorm_tensor *t = NULL;
    onnorm_error e;
    if (onn_tensor_read_buffer(data, size, "fuzz", &t, &e)) {
        if (t) abort(); /* a failure leaves nothing behind */
        return 0;
    }
    const int64_t n = onnorm_tensor_numel(t);
    const size_t esz = onnorm_dtype_size(t->dtype);
    if (n < 0 || esz == 0 || t->rank < 0 || t->rank > ONNORM_MAX_RANK) abort();
    volatile uint8_t sum = 0;
    const uint8_t *b = t->data;
    for (size_t i = 0; b && i < (size_t)n * esz; i++)
        sum += b[i];
    (void)sum;
    onnorm_tensor_free(t);
    return 0;
}
