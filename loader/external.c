/*
 * Tensors whose bytes live in a file next to the model (TensorProto
 * data_location = EXTERNAL, the form exporters use past protobuf's 2 GB).
 *
 * external_data holds key/value pairs: "location" (required, a path relative
 * to the model's directory), "offset" and "length" (optional, decimal
 * bytes; length defaults to the rest of the file) and "checksum" (ignored).
 * The location must stay inside the model's directory: an absolute path, a
 * ".." component, or a symbolic link that resolves outside is refused with
 * an error naming the tensor and the path. The segment is memory-mapped and
 * handed to onn_tensor_from_proto as raw_data, which checks its size against
 * the tensor's shape and type and copies it once; nothing is allocated
 * beyond what the file on disk holds.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "loader/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A decimal count of bytes, nothing else; false on anything else. */
static bool parse_bytes(const char *s, int64_t *out)
{
    if (!s || !*s) return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10) return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

/* True when `location` is a relative path without ".." components. */
static bool plain_relative(const char *location)
{
    if (!location[0] || location[0] == '/') return false;
    for (const char *p = location; *p;) {
        const char *end = strchr(p, '/');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') return false;
        p += len + (end != NULL);
    }
    return true;
}

onnorm_status onn_tensor_from_external(const Onnx__TensorProto *tp, const char *base_dir,
                                       onnorm_tensor **out, onnorm_error *err)
{
    const char *name = tp->name ? tp->name : "";
    const char *location = NULL, *offset_s = NULL, *length_s = NULL;
    *out = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e || !e->key) continue;
        if (strcmp(e->key, "location") == 0) location = e->value;
        if (strcmp(e->key, "offset") == 0) offset_s = e->value;
        if (strcmp(e->key, "length") == 0) length_s = e->value;
    }
    if (!location)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s' is stored externally but names no location", name);
    if (!base_dir)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "tensor '%s' keeps its data in external file '%s'; load the model from "
                        "its file (onnorm_model_load_file) so that the file can be found",
                        name, location);
    int64_t offset = 0, length = -1;
    if ((offset_s && !parse_bytes(offset_s, &offset)) ||
        (length_s && !parse_bytes(length_s, &length)))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s': external offset '%s' or length '%s' is not a byte count",
                        name, offset_s ? offset_s : "", length_s ? length_s : "");
    if (!plain_relative(location))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s': external data path '%s' must be relative to the model's "
                        "directory and must not contain '..'",
                        name, location);

    char joined[PATH_MAX], dir_real[PATH_MAX], file_real[PATH_MAX];
    if (snprintf(joined, sizeof joined, "%s/%s", base_dir, location) >= (int)sizeof joined)
        return onn_fail(err, ONNORM_ERR_INVALID, "tensor '%s': external data path '%s' is too long",
                        name, location);
    if (!realpath(base_dir, dir_real) || !realpath(joined, file_real))
        return onn_fail(err, ONNORM_ERR_IO, "tensor '%s': cannot open external data file '%s': %s",
                        name, joined, strerror(errno));
    const size_t dl = strlen(dir_real);
    if (strncmp(file_real, dir_real, dl) != 0 || (file_real[dl] != '/' && dl > 1))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s': external data file '%s' resolves to '%s', outside the "
                        "model's directory",
                        name, location, file_real);

    const int fd = open(file_real, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0) close(fd);
        return onn_fail(err, ONNORM_ERR_IO,
                        "tensor '%s': external data '%s' is not a readable regular file", name,
                        joined);
    }
    const int64_t fsize = (int64_t)sb.st_size;
    if (offset > fsize || (length >= 0 && length > fsize - offset)) {
        close(fd);
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "tensor '%s': external segment at offset %lld, length %lld lies past the "
                        "end of '%s' (%lld bytes)",
                        name, (long long)offset, (long long)length, location, (long long)fsize);
    }
    if (length < 0) length = fsize - offset;
    if ((uint64_t)length > SIZE_MAX) {
        close(fd);
        return onn_fail(err, ONNORM_ERR_NOMEM, "tensor '%s': external segment too large", name);
    }

    /* Map from the page holding the offset. */
    const long page = sysconf(_SC_PAGESIZE);
    const int64_t start = page > 0 ? offset / page * page : 0;
    const size_t map_len = (size_t)(offset - start + length);
    void *map = NULL;
    if (length > 0) {
        map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, fd, (off_t)start);
        if (map == MAP_FAILED) {
            close(fd);
            return onn_fail(err, ONNORM_ERR_IO, "tensor '%s': cannot map '%s': %s", name, joined,
                            strerror(errno));
        }
    }
    close(fd);

    Onnx__TensorProto inl = *tp;
    inl.has_data_location = 0;
    inl.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
    inl.n_external_data = 0;
    inl.external_data = NULL;
    inl.has_raw_data = 1;
    inl.raw_data.len = (size_t)length;
    inl.raw_data.data = map ? (uint8_t *)map + (offset - start) : NULL;
    onnorm_status st = onn_tensor_from_proto(&inl, out, err);
    if (map) munmap(map, map_len);
    if (st) return onn_prefix(err, st, "external data '%s': ", location);
    return ONNORM_OK;
}
