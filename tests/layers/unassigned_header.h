// Test input for cmake/CheckLayerIncludes.cmake: includes a crossproc header that belongs to no
// layer. Never compiled.
#pragma once

#include <crossproc/not_a_layer_yet.h>
