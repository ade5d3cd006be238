// Every codec crossproc provides for standard C++ types (see docs/types.md).
#pragma once

#include <crossproc/interface.h>
#include <crossproc/types/chrono.h>
#include <crossproc/types/data.h>
#include <crossproc/types/enum.h>
#include <crossproc/types/list.h>
#include <crossproc/types/map.h>
#include <crossproc/types/pair_tuple.h>
#include <crossproc/types/primitive.h>
#include <crossproc/types/text.h>
