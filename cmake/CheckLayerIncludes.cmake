# Fails if a file of one layer of the crossproc library includes a header of a layer it may not
# use. Run as a build step of each layer (see crossproc_layer in src/CMakeLists.txt):
#
#   cmake -DLAYER=transport -DALLOWED="base|transport" -DFILES="a.cpp|b.h" [-DSTAMP=file]
#         -P CheckLayerIncludes.cmake
#
# (Lists are separated by "|": a custom command would split ";" into separate arguments.)
#
# Headers belong to layers by path (the table below); a crossproc header missing from the table
# is an error too, so that every new header is placed. Other includes (the C++ library, kj,
# capnp, system headers) are not checked. On success, touches STAMP if given.

cmake_minimum_required(VERSION 3.20)

# Layer of an included path ("crossproc/future.h", "runtime/connection_state.h"), or "" if the
# include is not one of crossproc's own headers.
function(crossproc_layer_of path out)
  set(layer "")
  if(path MATCHES "^transport/")
    set(layer transport)
  elseif(path MATCHES "^runtime/")
    set(layer runtime)
  elseif(path MATCHES "^crossproc/(sync|errors|log)\\.h$")
    set(layer base)
  elseif(path MATCHES "^crossproc/(worker_pool|job|future|task_group)\\.h$")
    set(layer concurrency)
  elseif(path MATCHES "^crossproc/(codec|types|client|server|interface|proxy\\.capnp)\\.h$" OR
         path MATCHES "^crossproc/types/")
    set(layer proxy)
  elseif(path MATCHES "^crossproc/(connection|listener|process)\\.h$")
    set(layer runtime)
  elseif(path MATCHES "^crossproc/")
    set(layer unassigned)
  endif()
  set(${out} "${layer}" PARENT_SCOPE)
endfunction()

foreach(var LAYER ALLOWED FILES)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "CheckLayerIncludes.cmake: ${var} is not set")
  endif()
endforeach()

string(REPLACE "|" ";" ALLOWED "${ALLOWED}")
string(REPLACE "|" ";" FILES "${FILES}")
set(errors "")
foreach(file IN LISTS FILES)
  file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"].*$" "\\1" included "${line}")
    crossproc_layer_of(${included} layer)
    if(layer STREQUAL "")
      continue()
    elseif(layer STREQUAL "unassigned")
      string(APPEND errors "  ${file}: ${included} belongs to no layer (add it to cmake/CheckLayerIncludes.cmake)\n")
    elseif(NOT layer IN_LIST ALLOWED)
      string(APPEND errors "  ${file}: the ${LAYER} layer includes ${included}, of the ${layer} layer above it\n")
    endif()
  endforeach()
endforeach()

if(errors)
  message(FATAL_ERROR "wrong-way includes (the ${LAYER} layer may use only: ${ALLOWED}):\n${errors}")
endif()
if(DEFINED STAMP)
  file(TOUCH ${STAMP})
endif()
