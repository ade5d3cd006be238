// Every codec crossproc provides for standard C++ types (see docs/types.md).
#pragma once

#include <crossproc/interface.h>
#include <crossproc/types/blob.h>
#include <crossproc/types/containers.h>
#include <crossproc/types/primitive.h>
