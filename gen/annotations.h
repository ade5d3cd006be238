// The annotations and framework types crossproc-gen recognises, identified by the IDs compiled
// into the framework's own generated schema code (crossproc/proxy.capnp.h, capnp/c++.capnp.h).
#pragma once

#include <capnp/schema.capnp.h>

#include <cstdint>
#include <optional>
#include <string>

namespace crossproc::gen {

enum class Annotation {
  kInclude,       // Cp.include (file): header the generated code includes
  kIncludeTypes,  // Cp.includeTypes (file): header declaring types of wrapped classes
  kWrap,          // Cp.wrap (interface, struct): bind an existing C++ class
  kCount,         // Cp.count (param): number of C++ arguments, 0 or 1
  kException,     // Cp.exception (result field): carries an exception of this C++ type
  kName,          // Cp.name (field, method): C++ name
  kSkip,          // Cp.skip (field): no C++ counterpart
  kNamespace,     // Cp.namespace (file): namespace of the generated C++ types
  kType,          // Cp.type (field, param): C++ type of a field
  kCxxNamespace,  // Cxx.namespace (file): namespace of Cap'n Proto's generated types
  kCxxName,       // Cxx.name: renames Cap'n Proto's generated identifiers
};

using AnnotationList = capnp::List<capnp::schema::Annotation>::Reader;

// The ID of an annotation, read from the compiled-in schema that declares it.
uint64_t AnnotationId(Annotation annotation);

// The Text value of `annotation` if it is in `list`.
std::optional<std::string> FindText(AnnotationList list, Annotation annotation);
// The Int32 value of `annotation` if it is in `list`.
std::optional<int32_t> FindInt32(AnnotationList list, Annotation annotation);
// True if `annotation` is in `list`.
bool HasAnnotation(AnnotationList list, Annotation annotation);

// IDs of the framework schema (crossproc/proxy.capnp, also known as mp/proxy.capnp).
uint64_t FrameworkFileId();
uint64_t ContextStructId();
uint64_t ThreadMapInterfaceId();
uint64_t ThreadInterfaceId();

}  // namespace crossproc::gen
