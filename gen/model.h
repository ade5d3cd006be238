// The model of one schema file: what crossproc-gen emits for it, decided and validated once so
// that the writers only spell it out.
#pragma once

#include <capnp/schema-loader.h>
#include <capnp/schema.capnp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace crossproc::gen {

// How a value is stored in a Cap'n Proto message.
struct WireType {
  std::string
      name;  // the Wire of Codec<Wire, T>: "int64_t", "::capnp::Text", "::calc::wire::Point"
  bool adopt = false;  // stored with adoptX(orphan) (Text, Data, lists, structs), else setX(value)
};

// A C++ value that crosses the wire: a struct member, a parameter or a result.
struct Value {
  std::string schema_name;  // the field's name in the schema
  std::string accessor;     // "FooBar" as in getFooBar, setFooBar, adoptFooBar
  std::string cxx_name;     // the member or parameter name
  std::string cxx_type;     // fully qualified; std::optional<> not included
  WireType wire;
  bool optional = false;     // the field has a `has<Name> :Bool` partner: std::optional<cxx_type>
  std::string has_accessor;  // "HasFooBar" when optional
  bool by_value = false;     // passed by value (primitives, enums, std::unique_ptr)
  bool move_only = false;    // std::unique_ptr: always moved
  std::string initializer;   // member initializer ("{}", " = 5") or empty
  std::string doc;

  // The declared C++ type: cxx_type, or std::optional<cxx_type>.
  std::string DeclType() const;
};

// An enum declared in the schema.
struct EnumModel {
  std::string cxx_name;  // unqualified, nested names joined with '_'
  std::vector<std::string> enumerants;
  std::vector<std::string> enumerant_docs;
  std::string doc;
};

// A struct declared in the schema.
struct StructModel {
  std::string cxx_name;  // unqualified generated name, empty when wrapped
  std::string cxx_type;  // fully qualified C++ type (generated or wrapped)
  std::string wire_type;
  bool wrapped = false;
  std::vector<Value> members;           // C++ members, in schema order
  std::vector<Value> wire_fields;       // every field of the wire struct, for StructFields
  std::vector<std::string> value_deps;  // generated structs this one holds by value (cxx_type)
  std::string doc;
};

// A result field annotated $exception("Type").
struct ExceptionField {
  std::string accessor;
  std::string cxx_type;
};

// One parameter of a C++ method: an input, or an input that is also a result (in/out).
struct Param {
  Value in;
  std::optional<Value> out;  // the result field with the same name, for in/out parameters
};

struct MethodModel {
  enum class Kind { kNormal, kDestroy, kConstruct };
  Kind kind = Kind::kNormal;
  uint16_t ordinal = 0;
  std::string schema_name;
  std::string cxx_name;
  int context_index = -1;   // pointer index of the Context param, or -1
  std::string params_wire;  // "::calc::wire::Calculator::AddParams"
  std::string results_wire;
  std::vector<Param> params;    // C++ inputs and in/out parameters
  std::vector<Value> outputs;   // output-only parameters, after the inputs
  std::optional<Value> result;  // the return value
  std::vector<ExceptionField> exceptions;
  bool async = false;  // the client also gets <name>Async
  std::string doc;

  bool HasResults() const {
    return result || !outputs.empty() || !exceptions.empty() || HasInOut();
  }
  bool HasInOut() const;
};

struct InterfaceModel {
  std::string schema_name;   // "Calculator", "Outer.Inner": for logs and errors
  std::string cxx_name;      // unqualified generated class, empty when wrapped
  std::string cxx_type;      // fully qualified C++ class (generated or wrapped)
  std::string client_name;   // "CalculatorClient"
  std::string server_name;   // "CalculatorServer"
  std::string methods_name;  // "kCalculatorMethods": the method table's alias in the .cpp
  std::string adapter_name;  // "VisitorFromFunction": serves a std::function (callbacks only)
  std::string wire_type;
  bool wrapped = false;
  // `destroy @0` and `call @1` only: a std::function<R(Args...)> codec is emitted for it.
  bool callback = false;
  std::vector<MethodModel> methods;  // indexed by ordinal
  std::string doc;

  const MethodModel* Find(MethodModel::Kind kind) const;
};

struct FileModel {
  std::string filename;  // as given to capnp, e.g. "dir/foo.capnp"
  std::string stem;      // "dir/foo"
  std::string basename;  // "foo"
  std::string ns;        // namespace of the generated code: "calc"
  // The namespace whose qualification the writers drop inside `namespace ns {`: `ns`, unless
  // Cap'n Proto's types live there too (then `Init` inside a client of a wrapped class would
  // name the class, not the schema's interface, and every name stays fully qualified).
  std::string relative_ns;
  std::vector<std::string> includes;  // complete #include lines, in order
  std::vector<EnumModel> enums;
  std::vector<StructModel> structs;  // definition order (dependencies first)
  std::vector<InterfaceModel> interfaces;
};

// Builds the model of `file_id`, one of the requested files. Throws GenError for anything the
// generator does not support, naming the declaration.
FileModel BuildModel(const capnp::SchemaLoader& loader,
                     capnp::schema::CodeGeneratorRequest::Reader request,
                     capnp::schema::CodeGeneratorRequest::RequestedFile::Reader file);

}  // namespace crossproc::gen
