/* Float64 reference implementations of the normalization ops, written
 * straight from the ONNX spec (naive two-pass loops), for the unit tests. */
#ifndef ONNORM_TEST_REFNORM_H
#define ONNORM_TEST_REFNORM_H

#include <stdint.h>

#endif
