#include "refnorm.h"
