/* Pieces shared by the onnorm subcommands. Uses only the public API. */
#ifndef ONNORM_CLI_H
#define ONNORM_CLI_H

#include "onnorm.h"

#include <stdbool.h>

/* `onnorm test DIR... [--rtol R] [--atol A]` */
int onn_cli_test(int argc, char **argv);

/* Reads element i of a numeric tensor as double (NaN for unsupported types). */
double onn_cli_value(const onnorm_tensor *t, int64_t i);
/* Formats a shape like "[2,3,4]". */
const char *onn_cli_shape(const onnorm_tensor *t, char *buf, size_t len);
const char *onn_cli_shape_dims(const int64_t *dims, int rank, char *buf, size_t len);

#endif
