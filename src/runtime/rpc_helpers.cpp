// Helpers shared by the runtime's files.
#include "runtime/rpc_helpers.h"

#include <crossproc/proxy.capnp.h>

#include <capnp/dynamic.h>

namespace crossproc::detail {

bool CarriesCapabilities(capnp::rpc::Return::Reader ret) {
  return ret.isResults() && ret.getResults().hasCapTable() && ret.getResults().getCapTable().size() > 0;
}

std::string FormatPayload(std::optional<capnp::InterfaceSchema> schema, uint16_t method, bool results,
                          capnp::AnyPointer::Reader content) {
  if (!schema) return "(...)";
  constexpr std::size_t kMaxLength = 160;
  try {
    auto methods = schema->getMethods();
    if (method >= methods.size()) return "(?)";
    auto type = results ? methods[method].getResultType() : methods[method].getParamType();
    auto value = content.getAs<capnp::DynamicStruct>(type);
    std::string text = "(";
    for (auto field : type.getFields()) {
      auto field_type = field.getType();
      // The call context is the framework's business: leave it out.
      if (field_type.isStruct() && field_type.asStruct().getProto().getId() == capnp::typeId<wire::Context>()) continue;
      if (!value.has(field)) continue;
      if (text.size() > 1) text += ", ";
      text += field.getProto().getName().cStr();
      text += " = ";
      text += kj::str(value.get(field)).cStr();
    }
    text += ")";
    if (text.size() > kMaxLength) text = text.substr(0, kMaxLength) + "...";
    return text;
  } catch (...) {
    return "(unreadable)";
  }
}

std::optional<capnp::InterfaceSchema> SchemaOf(const MethodInfo& method) {
  if (!method.schema) return std::nullopt;
  return method.schema();
}

std::string DescribeError(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (...) {
    return DescribeCurrentException().second;
  }
}

std::vector<std::shared_ptr<CapRef>> CapRefsOf(capnp::BuilderCapabilityTable& caps) {
  std::vector<std::shared_ptr<CapRef>> refs;
  for (auto& entry : caps.getTable()) {
    std::shared_ptr<CapRef> ref;
    KJ_IF_MAYBE(hook, entry) { ref = CapToken::Unwrap(capnp::Capability::Client((*hook)->addRef())); }
    refs.push_back(std::move(ref));
  }
  return refs;
}

}  // namespace crossproc::detail
