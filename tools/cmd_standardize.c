/* `onnorm standardize` (placeholder until implemented). */
#include "cli.h"
int onn_cli_standardize(int argc, char **argv)
{
    (void)argc, (void)argv;
    return ONN_EXIT_UNSUPPORTED;
}
