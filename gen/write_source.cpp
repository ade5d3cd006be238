// Writes <stem>.crossproc.cpp.
#include "emitter.h"
#include "names.h"
#include "writers.h"

#include <string>
#include <vector>

namespace crossproc::gen {
namespace {

// Spells values of one file: types relative to the file's namespace (the code that uses them
// sits inside it, except the struct codecs, which use fully qualified names).
class Spelling {
 public:
  explicit Spelling(std::string ns) : m_ns(std::move(ns)) {}
  std::string operator()(const std::string& type) const { return RelativeTo(type, m_ns); }
  const std::string& Namespace() const { return m_ns; }

 private:
  std::string m_ns;
};

// Stores `expr` (a C++ value) into field `value` of `builder`, through its codec. An optional
// value sets the field and its has<Name> partner only when it holds a value.
void EmitStore(Emitter& out, const Spelling& spell, const Value& value, const std::string& builder,
               const std::string& expr, const std::string& encoder, bool move) {
  auto store = [&](const std::string& source) {
    std::string arg =
        move && (!value.by_value || value.move_only) ? "std::move(" + source + ")" : source;
    out.Call(builder + "." + (value.wire.adopt ? "adopt" : "set") + value.accessor +
                 "(crossproc::Build<" + spell(value.wire.name) + ">(",
             {encoder, arg}, "));");
  };
  if (!value.optional) {
    store(expr);
    return;
  }
  out.Open("if (" + expr + ") {");
  out.Line(builder + ".set" + value.has_accessor + "(true);");
  store("*" + expr);
  out.Close("}");
}

// Reads field `value` of `reader` into `target` through its codec. `declare` declares `target`
// as a local first; `reset` empties an optional target that the message leaves unset.
void EmitLoad(Emitter& out, const Spelling& spell, const Value& value, const std::string& reader,
              const std::string& target, const std::string& decoder, bool declare, bool reset) {
  std::string read =
      "crossproc::Read<" + spell(value.wire.name) + ", " + spell(value.cxx_type) + ">(";
  std::vector<std::string> args = {decoder, reader + ".get" + value.accessor + "()"};
  if (!value.optional) {
    out.Call((declare ? spell(value.DeclType()) + " " : std::string()) + target + " = " + read,
             args, ");");
    return;
  }
  if (declare) out.Line(spell(value.DeclType()) + " " + target + ";");
  if (reset) out.Line(target + ".reset();");
  out.Open("if (" + reader + ".get" + value.has_accessor + "()) {");
  out.Call(target + " = " + read, args, ");");
  out.Close("}");
}

// ----------------------------------------------------------------------------------------------
// Struct codecs.

void WriteStructCodec(Emitter& out, const StructModel& model) {
  Spelling spell("");
  std::string codec = "crossproc::Codec<" + model.wire_type + ", " + model.cxx_type + ">";
  bool any = !model.members.empty();
  out.Blank();
  out.OpenCall("void " + codec + "::Fill(",
               {std::string("crossproc::Encoder&") + (any ? " encoder" : ""),
                model.wire_type + "::Builder" + (any ? " builder" : ""),
                "const " + model.cxx_type + "&" + (any ? " value" : "")},
               ") {");
  for (const Value& member : model.members) {
    EmitStore(out, spell, member, "builder", "value." + member.cxx_name, "encoder", false);
  }
  out.Close("}");
  out.Blank();
  out.OpenCall(model.cxx_type + " " + codec + "::Read(",
               {std::string("crossproc::Decoder&") + (any ? " decoder" : ""),
                model.wire_type + "::Reader" + (any ? " reader" : "")},
               ") {");
  out.Line(model.cxx_type + " value{};");
  for (const Value& member : model.members) {
    EmitLoad(out, spell, member, "reader", "value." + member.cxx_name, "decoder", false, false);
  }
  out.Line("return value;");
  out.Close("}");
}

// The std::function codec of a callback interface: an adapter serves a function as the
// interface, and a function received calls the interface.
void WriteFunctionAdapter(Emitter& out, const Spelling& spell, const InterfaceModel& model) {
  const MethodModel& call = model.methods.at(1);
  std::string function = FunctionType(model, spell.Namespace());
  const std::string& adapter = model.adapter_name;
  std::vector<std::string> args;
  for (const Param& param : call.params) {
    args.push_back(param.in.move_only ? "std::move(" + param.in.cxx_name + ")" : param.in.cxx_name);
  }
  out.Blank();
  out.Paragraph("Serves a " + function + " as a " + model.schema_name + ". Thread-safe as far as " +
                "the function is.");
  out.Open("class " + adapter + " final : public " + spell(model.cxx_type) + " {");
  out.Label("public:");
  out.Call("explicit " + adapter + "(", {function + " function"},
           ") : m_function(std::move(function)) {}");
  out.OpenCall(ReturnType(call, spell.Namespace()) + " " + call.cxx_name + "(",
               ParamDecls(call, spell.Namespace()), ") override {");
  out.Call("return m_function(", args, ");");
  out.Close("}");
  out.Blank();
  out.Label("private:");
  out.Line(function + " m_function;");
  out.Close("};");
}

void WriteFunctionCodec(Emitter& out, const std::string& ns, const InterfaceModel& model) {
  const MethodModel& call = model.methods.at(1);
  std::string function = FunctionType(model, "");
  std::string codec = "crossproc::Codec<" + model.wire_type + ", " + function + ">";
  std::string interface = "std::shared_ptr<" + model.cxx_type + ">";
  std::string adapter = (ns.empty() ? "" : "::" + ns) + "::" + model.adapter_name;
  out.Blank();
  out.OpenCall(model.wire_type + "::Client " + codec + "::Build(",
               {"crossproc::Encoder& encoder", "const " + function + "& value"}, ") {");
  out.Line("if (!value) return " + model.wire_type + "::Client(nullptr);");
  out.Call("return crossproc::Build<" + model.wire_type + ">(",
           {"encoder", interface + "(std::make_shared<" + adapter + ">(value))"}, ");");
  out.Close("}");
  out.Blank();
  out.OpenCall(function + " " + codec + "::Read(",
               {"crossproc::Decoder& message_decoder", model.wire_type + "::Client received_cap"},
               ") {");
  out.Call(
      interface + " callback_target = crossproc::Read<" + model.wire_type + ", " + interface + ">(",
      {"message_decoder", "std::move(received_cap)"}, ");");
  out.Line("if (!callback_target) return nullptr;");
  std::vector<std::string> args;
  for (const Param& param : call.params) {
    args.push_back(param.in.move_only ? "std::move(" + param.in.cxx_name + ")" : param.in.cxx_name);
  }
  // Locals have two-word names: a parameter of `call` cannot shadow them.
  out.OpenCall("return [callback_target = std::move(callback_target)](", ParamDecls(call, ""),
               ") {");
  out.Call("return callback_target->" + call.cxx_name + "(", args, ");");
  out.Close("};");
  out.Close("}");
}

// ----------------------------------------------------------------------------------------------
// Client proxies.

// Everything a client does with the results: rethrow carried exceptions, fill in/out and output
// parameters, return the result.
void EmitClientResults(Emitter& out, const Spelling& spell, const MethodModel& method,
                       const std::string& results, const std::string& decoder) {
  for (const ExceptionField& exception : method.exceptions) {
    out.Open("if (auto error_text = " + results + ".get" + exception.accessor +
             "(); error_text.size() != 0) {");
    out.Line("throw " + spell(exception.cxx_type) +
             "(std::string(error_text.cStr(), error_text.size()));");
    out.Close("}");
  }
  for (const Param& param : method.params) {
    if (param.out)
      EmitLoad(out, spell, *param.out, results, param.out->cxx_name, decoder, false, true);
  }
  for (const Value& output : method.outputs) {
    EmitLoad(out, spell, output, results, output.cxx_name, decoder, false, true);
  }
  if (!method.result) return;
  if (method.result->optional) {
    EmitLoad(out, spell, *method.result, results, "return_value", decoder, true, false);
    out.Line("return return_value;");
  } else {
    out.Call("return crossproc::Read<" + spell(method.result->wire.name) + ", " +
                 spell(method.result->cxx_type) + ">(",
             {decoder, results + ".get" + method.result->accessor + "()"}, ");");
  }
}

void EmitClientParams(Emitter& out, const Spelling& spell, const MethodModel& method,
                      const std::string& call, const std::string& access) {
  if (method.params.empty()) return;
  out.Line("auto call_params = " + call + access + "params();");
  for (const Param& param : method.params) {
    // Inputs the caller gave up (std::unique_ptr by value) are moved; in/out ones are not.
    bool move = param.in.move_only && !param.out;
    EmitStore(out, spell, param.in, "call_params", param.in.cxx_name, call + access + "encoder()",
              move);
  }
}

std::string ClientCallType(const Spelling& spell, const MethodModel& method) {
  return "crossproc::ClientCall<" + spell(method.params_wire) + ", " + spell(method.results_wire) +
         ">";
}

void WriteClientMethod(Emitter& out, const Spelling& spell, const FileModel& file,
                       const InterfaceModel& model, const MethodModel& method) {
  std::string info = model.methods_name + "[" + std::to_string(method.ordinal) + "]";
  out.Blank();
  out.OpenCall(
      ReturnType(method, file.relative_ns) + " " + model.client_name + "::" + method.cxx_name + "(",
      ParamDecls(method, file.relative_ns), ") {");
  out.Continued("using Call =", ClientCallType(spell, method) + ";");
  out.Line("Call client_call(*this, " + info + ");");
  EmitClientParams(out, spell, method, "client_call", ".");
  if (!method.HasResults()) {
    out.Line("client_call.Send();");
  } else {
    out.Line("auto call_results = client_call.Send();");
    EmitClientResults(out, spell, method, "call_results", "client_call.decoder()");
  }
  out.Close("}");
}

void WriteClientAsyncMethod(Emitter& out, const Spelling& spell, const FileModel& file,
                            const InterfaceModel& model, const MethodModel& method) {
  std::string info = model.methods_name + "[" + std::to_string(method.ordinal) + "]";
  std::string results_reader = spell(method.results_wire) + "::Reader";
  out.Blank();
  out.OpenCall(FutureType(method, file.relative_ns) + " " + model.client_name +
                   "::" + method.cxx_name + "Async(",
               ParamDecls(method, file.relative_ns), ") {");
  out.Continued("using Call =", ClientCallType(spell, method) + ";");
  out.Line("auto client_call = std::make_shared<Call>(*this, " + info + ");");
  EmitClientParams(out, spell, method, "client_call", "->");
  // Runs on the thread that reads the answer: the same conversions as the waiting call.
  bool uses_results = method.result || !method.exceptions.empty();
  bool uses_decoder = method.result.has_value();
  std::vector<std::string> lambda_params = {
      std::string("crossproc::Decoder&") + (uses_decoder ? " call_decoder" : ""),
      results_reader + (uses_results ? " call_results" : "")};
  if (uses_results) {
    out.OpenCall("auto read_results = [](", lambda_params, ") {");
    EmitClientResults(out, spell, method, "call_results", "call_decoder");
    out.Close("};");
  } else {
    out.Call("auto read_results = [](", lambda_params, ") {};");
  }
  out.Call("return crossproc::SendAsync<" + ReturnType(method, file.relative_ns) + ">(",
           {"std::move(client_call)", "std::move(read_results)"}, ");");
  out.Close("}");
}

void WriteClient(Emitter& out, const Spelling& spell, const FileModel& file,
                 const InterfaceModel& model) {
  if (const MethodModel* destroy = model.Find(MethodModel::Kind::kDestroy)) {
    out.Blank();
    out.Line(model.client_name + "::~" + model.client_name + "() { CallDestroy(" +
             model.methods_name + "[" + std::to_string(destroy->ordinal) + "]); }");
  }
  for (const MethodModel& method : model.methods) {
    if (method.kind == MethodModel::Kind::kNormal)
      WriteClientMethod(out, spell, file, model, method);
  }
  for (const MethodModel& method : model.methods) {
    if (method.async) WriteClientAsyncMethod(out, spell, file, model, method);
  }
}

// ----------------------------------------------------------------------------------------------
// Server adapters.

// Reads the params, calls the implementation and writes the results of one method.
void EmitDispatchCase(Emitter& out, const Spelling& spell, const MethodModel& method) {
  out.Open("case " + std::to_string(method.ordinal) + ": {");
  if (method.kind == MethodModel::Kind::kDestroy) {
    out.Line("DestroyImpl();");
    out.Line("return;");
    out.Close("}");
    return;
  }
  if (method.kind == MethodModel::Kind::kConstruct) {
    out.Line("incoming_call.ExchangeThreadMaps();");
    out.Line("return;");
    out.Close("}");
    return;
  }
  std::string results_wire = spell(method.results_wire);
  if (!method.params.empty()) {
    out.Line("auto call_params = incoming_call.Params<" + spell(method.params_wire) + ">();");
  }
  std::vector<std::string> args;
  for (const Param& param : method.params) {
    EmitLoad(out, spell, param.in, "call_params", param.in.cxx_name, "incoming_call.decoder()",
             true, false);
    bool move = param.in.move_only && !param.out;
    args.push_back(move ? "std::move(" + param.in.cxx_name + ")" : param.in.cxx_name);
  }
  for (const Value& output : method.outputs) {
    out.Line(spell(output.DeclType()) + " " + output.cxx_name + "{};");
    args.push_back(output.cxx_name);
  }
  bool guarded = !method.exceptions.empty();
  if (guarded) out.Open("try {");
  std::string call = "CheckedImpl()->" + method.cxx_name + "(";
  if (method.result) {
    out.Call(spell(method.result->DeclType()) + " return_value = " + call, args, ");");
  } else {
    out.Call(call, args, ");");
  }
  if (method.result || !method.outputs.empty() || method.HasInOut()) {
    out.Line("auto call_results = incoming_call.Results<" + results_wire + ">();");
    if (method.result) {
      EmitStore(out, spell, *method.result, "call_results", "return_value",
                "incoming_call.encoder()", true);
    }
    for (const Param& param : method.params) {
      if (param.out) {
        EmitStore(out, spell, *param.out, "call_results", param.out->cxx_name,
                  "incoming_call.encoder()", true);
      }
    }
    for (const Value& output : method.outputs) {
      EmitStore(out, spell, output, "call_results", output.cxx_name, "incoming_call.encoder()",
                true);
    }
  }
  if (guarded) {
    // The carried exception types travel as their message, in the result field named for them.
    for (const ExceptionField& exception : method.exceptions) {
      out.Close();
      out.Open("} catch (const " + spell(exception.cxx_type) + "& caught_error) {");
      out.Call("incoming_call.Results<" + results_wire + ">().set" + exception.accessor + "(",
               {"caught_error.what()"}, ");");
    }
    out.Close("}");
  }
  out.Line("return;");
  out.Close("}");
}

void WriteServer(Emitter& out, const Spelling& spell, const InterfaceModel& model) {
  const std::string& server = model.server_name;
  std::string wire = spell(model.wire_type);
  bool any = !model.methods.empty();
  out.Blank();
  out.Line("uint64_t " + server + "::InterfaceId() const { return capnp::typeId<" + wire +
           ">(); }");
  out.Blank();
  out.Line("const char* " + server + "::InterfaceName() const { return \"" + model.schema_name +
           "\"; }");
  out.Blank();
  if (any) {
    out.Open("const char* " + server + "::MethodName(uint16_t method) const {");
    out.Line("return method < " + model.methods_name + ".size() ? " + model.methods_name +
             "[method].method_name : nullptr;");
    out.Close("}");
    out.Blank();
    out.Open("int " + server + "::ContextIndex(uint16_t method) const {");
    out.Line("return method < " + model.methods_name + ".size() ? " + model.methods_name +
             "[method].context_index : -1;");
    out.Close("}");
  } else {
    out.Line("const char* " + server + "::MethodName(uint16_t) const { return nullptr; }");
    out.Blank();
    out.Line("int " + server + "::ContextIndex(uint16_t) const { return -1; }");
  }
  out.Blank();
  out.Open("std::optional<capnp::InterfaceSchema> " + server + "::Schema() const {");
  out.Line("return capnp::Schema::from<" + wire + ">();");
  out.Close("}");
  out.Blank();
  out.Open("void " + server + "::Dispatch(crossproc::IncomingCall& incoming_call) {");
  if (any) {
    out.Open("switch (incoming_call.method()) {");
    for (const MethodModel& method : model.methods) EmitDispatchCase(out, spell, method);
    out.Line("default:");
    out.Indent();
    out.Line("break;");
    out.Dedent();
    out.Close("}");
  }
  out.Line("throw crossproc::RemoteError(crossproc::ErrorKind::kUnimplemented, \"\",");
  out.Line("                             \"" + model.schema_name +
           " has no method \" + std::to_string(incoming_call.method()));");
  out.Close("}");
}

// What only this file uses: short names for the method tables of InterfaceTraits (used by
// clients and servers) and the adapters that serve functions as callback interfaces.
void WriteFileLocals(Emitter& out, const Spelling& spell, const FileModel& file) {
  bool any = false;
  for (const InterfaceModel& model : file.interfaces) any = any || !model.methods.empty();
  if (!any) return;
  out.Blank();
  out.Line("namespace {");
  out.Blank();
  for (const InterfaceModel& model : file.interfaces) {
    if (model.methods.empty()) continue;
    out.Call("constexpr const auto& " + model.methods_name + " = ",
             {"crossproc::InterfaceTraits<" + spell(model.cxx_type) + ">::kMethods"}, ";");
  }
  for (const InterfaceModel& model : file.interfaces) {
    if (model.callback) WriteFunctionAdapter(out, spell, model);
  }
  out.Blank();
  out.Line("}  // namespace");
}

}  // namespace

std::string WriteSource(const FileModel& model) {
  Spelling spell(model.relative_ns);
  Emitter out;
  out.Line("// Generated by crossproc-gen from " + model.filename + "; do not edit.");
  out.Line("#include \"" + model.basename + ".crossproc.h\"");
  out.Blank();
  out.Line("#include <crossproc/errors.h>");
  out.Blank();
  out.Line("#include <memory>");
  out.Line("#include <string>");
  out.Line("#include <utility>");
  for (const StructModel& s : model.structs) WriteStructCodec(out, s);
  if (!model.interfaces.empty()) {
    out.Blank();
    out.Line("namespace " + model.ns + " {");
    WriteFileLocals(out, spell, model);
    for (const InterfaceModel& interface : model.interfaces) {
      WriteClient(out, spell, model, interface);
      WriteServer(out, spell, interface);
    }
    out.Blank();
    out.Line("}  // namespace " + model.ns);
  }
  for (const InterfaceModel& interface : model.interfaces) {
    if (interface.callback) WriteFunctionCodec(out, model.ns, interface);
  }
  return out.Text();
}

}  // namespace crossproc::gen
