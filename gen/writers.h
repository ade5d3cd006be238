// The two outputs of crossproc-gen for one schema file, and the spellings both share.
#pragma once

#include "model.h"

#include <string>
#include <vector>

namespace crossproc::gen {

// <stem>.crossproc.h: C++ types, interfaces, client and server declarations, traits, codecs.
std::string WriteHeader(const FileModel& model);
// <stem>.crossproc.cpp: client, server and struct codec definitions.
std::string WriteSource(const FileModel& model);

// Spellings of a method's C++ signature, with types relative to namespace `ns`.
std::string ReturnType(const MethodModel& method, const std::string& ns);
std::vector<std::string> ParamDecls(const MethodModel& method, const std::string& ns);
// The parameter types alone, as in ParamDecls.
std::vector<std::string> ParamTypes(const MethodModel& method, const std::string& ns);
// For a callback interface: std::function<R(Args...)> with the signature of its `call`.
std::string FunctionType(const InterfaceModel& interface, const std::string& ns);
// The client's `<name>Async` variant returns crossproc::Future<ReturnType>.
std::string FutureType(const MethodModel& method, const std::string& ns);

}  // namespace crossproc::gen
