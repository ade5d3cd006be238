#include "names.h"
#include "writers.h"

namespace crossproc::gen {

std::string ReturnType(const MethodModel& method, const std::string& ns) {
  return method.result ? RelativeTo(method.result->DeclType(), ns) : "void";
}

std::string FutureType(const MethodModel& method, const std::string& ns) {
  return "crossproc::Future<" + ReturnType(method, ns) + ">";
}

// Inputs by value (primitives, enums, std::unique_ptr) or by const reference, in/out and output
// parameters by reference.
std::vector<std::string> ParamTypes(const MethodModel& method, const std::string& ns) {
  std::vector<std::string> types;
  for (const Param& param : method.params) {
    std::string type = RelativeTo(param.in.DeclType(), ns);
    if (param.out) {
      types.push_back(type + "&");
    } else if (param.in.by_value) {
      types.push_back(type);
    } else {
      types.push_back("const " + type + "&");
    }
  }
  for (const Value& output : method.outputs)
    types.push_back(RelativeTo(output.DeclType(), ns) + "&");
  return types;
}

std::vector<std::string> ParamDecls(const MethodModel& method, const std::string& ns) {
  std::vector<std::string> decls = ParamTypes(method, ns);
  std::vector<std::string> names;
  for (const Param& param : method.params) names.push_back(param.in.cxx_name);
  for (const Value& output : method.outputs) names.push_back(output.cxx_name);
  for (std::size_t i = 0; i < decls.size(); ++i) decls[i] += " " + names[i];
  return decls;
}

std::string FunctionType(const InterfaceModel& interface, const std::string& ns) {
  const MethodModel& call = interface.methods.at(1);
  std::string args;
  for (const std::string& type : ParamTypes(call, ns)) args += (args.empty() ? "" : ", ") + type;
  return "std::function<" + ReturnType(call, ns) + "(" + args + ")>";
}

}  // namespace crossproc::gen
