/*
 * Fuzz target: bytes -> the NumPy .npy reader (onnorm_tensor_read_npy, the
 * reader of the calibration data sets). The reader takes a path (it checks
 * the file's size against the header before reading any data), so each
 * input is written to one temporary file per process, rewritten in place.
 * A tensor that reads is checked for consistency: its element count and
 * type give its byte size, every byte is read (ASan flags a short buffer),
 * and that size is what the file holds after its header. A failure leaves
 * nothing behind.
 */
#define _POSIX_C_SOURCE 200809L
#include "onnorm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_temp(void)
{
    if (path[0]) unlink(path);
}

/* The process's temporary file, created on first use (in /dev/shm when
 * there is one: no disk writes per input). */
static const char *temp_path(void)
{
    if (path[0]) return path;
    const char *dirs[] = {"/dev/shm", "/tmp"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(path, sizeof path, "%s/onnorm-fuzz-npy-XXXXXX", dirs[i]);
        const int fd = mkstemp(path);
        if (fd >= 0) {
            close(fd);
            atexit(remove_temp);
            return path;
        }
    }
    abort(); /* no writable temporary directory: the target cannot run */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = temp_path();
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
    onnorm_tensor *t = NULL;
    onnorm_error e;
    if (onnorm_tensor_read_npy(p, &t, &e)) {
        if (t) abort(); /* a failure leaves nothing behind */
        return 0;
    }
    const int64_t n = onnorm_tensor_numel(t);
    const size_t esz = onnorm_dtype_size(t->dtype);
    if (n < 0 || esz == 0 || t->rank < 0 || t->rank > ONNORM_MAX_RANK) abort();
    const size_t bytes = (size_t)n * esz;
    if (bytes > size) abort(); /* more data than the input held */
    volatile uint8_t sum = 0;
    const uint8_t *b = t->data;
    for (size_t i = 0; b && i < bytes; i++)
        sum += b[i];
    (void)sum;
    /* the data are the input's last bytes */
    if (bytes && memcmp(b, data + size - bytes, bytes) != 0) abort();
    onnorm_tensor_free(t);
    return 0;
}
