#include "annotations.h"

#include <crossproc/proxy.capnp.h>

#include <capnp/c++.capnp.h>
#include <capnp/message.h>
#include <capnp/schema.h>

#include <stdexcept>
#include <string_view>

namespace crossproc::gen {
namespace {

// The ID of a compiled-in annotation node, after checking that it is the annotation `name`
// (a wrong schema symbol here would silently change what the generator reacts to).
uint64_t CheckedId(const capnp::_::RawSchema& raw, std::string_view name) {
  auto node = capnp::readMessageUnchecked<capnp::schema::Node>(raw.encodedNode);
  std::string_view display(node.getDisplayName().cStr(), node.getDisplayName().size());
  std::string suffix = ":" + std::string(name);
  if (!node.isAnnotation() || !display.ends_with(suffix)) {
    throw std::logic_error("crossproc-gen: compiled-in schema " + std::string(display) +
                           " is not the annotation " + std::string(name));
  }
  return node.getId();
}

struct AnnotationIds {
  uint64_t include = CheckedId(capnp::schemas::s_b899f3c154fdb458, "include");
  uint64_t include_types = CheckedId(capnp::schemas::s_bcec15648e8a0cf1, "includeTypes");
  uint64_t wrap = CheckedId(capnp::schemas::s_e6f46079b7b1405e, "wrap");
  uint64_t count = CheckedId(capnp::schemas::s_d02682b319f69b38, "count");
  uint64_t exception = CheckedId(capnp::schemas::s_996a183200992f88, "exception");
  uint64_t name = CheckedId(capnp::schemas::s_b594888f63f4dbb9, "name");
  uint64_t skip = CheckedId(capnp::schemas::s_824c08b82695d8dd, "skip");
  uint64_t cp_namespace = CheckedId(capnp::schemas::s_d43a9f4e3c1e5a01, "namespace");
  uint64_t type = CheckedId(capnp::schemas::s_d43a9f4e3c1e5a02, "type");
  uint64_t cxx_namespace = CheckedId(capnp::schemas::s_b9c6f99ebf805f2c, "namespace");
  uint64_t cxx_name = CheckedId(capnp::schemas::s_f264a779fef191ce, "name");
};

const AnnotationIds& Ids() {
  static const AnnotationIds ids;
  return ids;
}

std::optional<capnp::schema::Value::Reader> Find(AnnotationList list, Annotation annotation) {
  uint64_t id = AnnotationId(annotation);
  for (auto entry : list) {
    if (entry.getId() == id) return entry.getValue();
  }
  return std::nullopt;
}

}  // namespace

uint64_t AnnotationId(Annotation annotation) {
  const AnnotationIds& ids = Ids();
  switch (annotation) {
    case Annotation::kInclude:
      return ids.include;
    case Annotation::kIncludeTypes:
      return ids.include_types;
    case Annotation::kWrap:
      return ids.wrap;
    case Annotation::kCount:
      return ids.count;
    case Annotation::kException:
      return ids.exception;
    case Annotation::kName:
      return ids.name;
    case Annotation::kSkip:
      return ids.skip;
    case Annotation::kNamespace:
      return ids.cp_namespace;
    case Annotation::kType:
      return ids.type;
    case Annotation::kCxxNamespace:
      return ids.cxx_namespace;
    case Annotation::kCxxName:
      return ids.cxx_name;
  }
  throw std::logic_error("crossproc-gen: unknown annotation");
}

std::optional<std::string> FindText(AnnotationList list, Annotation annotation) {
  auto value = Find(list, annotation);
  if (!value || !value->isText()) return std::nullopt;
  return std::string(value->getText().cStr(), value->getText().size());
}

std::optional<int32_t> FindInt32(AnnotationList list, Annotation annotation) {
  auto value = Find(list, annotation);
  if (!value || !value->isInt32()) return std::nullopt;
  return value->getInt32();
}

bool HasAnnotation(AnnotationList list, Annotation annotation) {
  return Find(list, annotation).has_value();
}

uint64_t FrameworkFileId() {
  return capnp::Schema::from<crossproc::wire::Context>().getProto().getScopeId();
}
uint64_t ContextStructId() { return capnp::typeId<crossproc::wire::Context>(); }
uint64_t ThreadMapInterfaceId() { return capnp::typeId<crossproc::wire::ThreadMap>(); }
uint64_t ThreadInterfaceId() { return capnp::typeId<crossproc::wire::Thread>(); }

}  // namespace crossproc::gen
