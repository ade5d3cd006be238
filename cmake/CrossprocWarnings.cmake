# The one list of warning flags every target of the project uses.
add_library(crossproc_warnings INTERFACE)
target_compile_options(crossproc_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough -Wvla
  $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>
  $<$<BOOL:${CROSSPROC_WERROR}>:-Werror>)
