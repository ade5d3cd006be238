# crossproc_generate(<target> <schema.capnp>... [SRC_PREFIX dir] [IMPORT_PATHS dir...])
# (schemas first: IMPORT_PATHS takes every argument after it)
#
# Runs Cap'n Proto's C++ generator and crossproc-gen on each schema and adds the results to
# <target>: for `foo.capnp` the message types `foo.capnp.h` and the crossproc interfaces,
# clients and servers `foo.crossproc.h`, both includable by the schema's path relative to
# SRC_PREFIX (default: the current source folder). The target links crossproc.
function(crossproc_generate target)
  cmake_parse_arguments(ARG "" "SRC_PREFIX" "IMPORT_PATHS" ${ARGN})
  if(NOT ARG_SRC_PREFIX)
    set(ARG_SRC_PREFIX ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  get_filename_component(prefix ${ARG_SRC_PREFIX} ABSOLUTE)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/crossproc_generated)
  set(import_flags -I${CROSSPROC_SCHEMA_DIR} -I${CAPNP_INCLUDE_DIRECTORY})
  foreach(dir IN LISTS ARG_IMPORT_PATHS)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND import_flags -I${dir})
  endforeach()
  foreach(schema IN LISTS ARG_UNPARSED_ARGUMENTS)
    get_filename_component(abs ${schema} ABSOLUTE)
    file(RELATIVE_PATH rel ${prefix} ${abs})
    string(REGEX REPLACE "\\.capnp$" "" stem ${rel})
    set(outputs ${out_dir}/${rel}.h ${out_dir}/${rel}.c++
                ${out_dir}/${stem}.crossproc.h ${out_dir}/${stem}.crossproc.cpp)
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${CAPNP_EXECUTABLE} compile ${import_flags} --src-prefix=${prefix}
              -o${CAPNPC_CXX_EXECUTABLE}:${out_dir}
              -o$<TARGET_FILE:crossproc::crossproc-gen>:${out_dir} ${abs}
      DEPENDS ${abs} crossproc::crossproc-gen
      COMMENT "crossproc-gen ${rel}"
      VERBATIM)
    target_sources(${target} PRIVATE ${outputs})
    set_source_files_properties(${out_dir}/${rel}.c++ PROPERTIES LANGUAGE CXX)
  endforeach()
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${out_dir}>)
  target_link_libraries(${target} PUBLIC crossproc::crossproc)
endfunction()
