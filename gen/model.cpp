#include "model.h"

#include "annotations.h"
#include "gen_error.h"
#include "names.h"

#include <capnp/schema.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace crossproc::gen {

std::string Value::DeclType() const {
  return optional ? "std::optional<" + cxx_type + ">" : cxx_type;
}

bool MethodModel::HasInOut() const {
  return std::any_of(params.begin(), params.end(),
                     [](const Param& param) { return param.out.has_value(); });
}

const MethodModel* InterfaceModel::Find(MethodModel::Kind kind) const {
  for (const MethodModel& method : methods) {
    if (method.kind == kind) return &method;
  }
  return nullptr;
}

namespace {

using capnp::schema::Node;
using capnp::schema::Type;
using RequestedFile = capnp::schema::CodeGeneratorRequest::RequestedFile;

std::string Str(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

// Where a value is used decides the default C++ type of interfaces.
enum class Use {
  kMember,   // struct member: std::shared_ptr<I>
  kParam,    // method parameter: std::shared_ptr<I>
  kResult,   // method result or output parameter: std::unique_ptr<I>
  kElement,  // list element: std::shared_ptr<I>
};

// The default C++ mapping of a schema type.
struct MappedType {
  std::string cxx;
  WireType wire;
  bool by_value = false;
  bool move_only = false;
};

// What crossproc-gen knows about a schema file: its namespaces.
struct FileInfo {
  std::string cxx_ns;  // $Cxx.namespace, without leading "::"
  std::optional<std::string> cp_ns;
  std::string ns;  // namespace of the generated code
};

// A struct field and, for `x`, its `hasX :Bool` partner.
struct PairedField {
  capnp::StructSchema::Field field;
  std::optional<capnp::StructSchema::Field> has;
};

bool IsFrameworkNode(capnp::Schema node, uint64_t framework_file) {
  return node.getProto().getScopeId() == framework_file;
}

// True for wire types stored with adoptX (an orphan), false for those stored with setX.
bool IsAdopted(capnp::Type type) {
  switch (type.which()) {
    case Type::TEXT:
    case Type::DATA:
    case Type::LIST:
    case Type::STRUCT:
    case Type::ANY_POINTER:
      return true;
    default:
      return false;
  }
}

// "FooBar" for field fooBar: the suffix of Cap'n Proto's accessors (getFooBar, setFooBar).
std::string AccessorOf(capnp::StructSchema::Field field) {
  auto proto = field.getProto();
  return TitleCase(
      FindText(proto.getAnnotations(), Annotation::kCxxName).value_or(Str(proto.getName())));
}

// Translates one requested file into its FileModel, validating as it goes. Used once, by one
// thread.
class ModelBuilder {
 public:
  ModelBuilder(const capnp::SchemaLoader& loader,
               capnp::schema::CodeGeneratorRequest::Reader request, RequestedFile::Reader file)
      : m_loader(loader), m_file(file), m_framework_file(FrameworkFileId()) {
    for (auto info : request.getSourceInfo()) m_docs.emplace(info.getId(), info);
  }

  FileModel Build();

 private:
  // Declarations and names.
  const FileInfo& InfoOf(uint64_t file_id);
  uint64_t FileOf(capnp::Schema node) const;
  std::vector<capnp::Schema> ScopeChain(capnp::Schema node) const;
  std::string SchemaPath(capnp::Schema node) const;
  std::string LocalCxxName(capnp::Schema node) const;
  std::string WireName(capnp::Schema node);
  std::string CxxTypeName(capnp::Schema node);
  std::string Doc(uint64_t id) const;
  std::string MemberDoc(uint64_t id, unsigned index) const;
  void CollectDeclarations(capnp::Schema scope, std::vector<capnp::Schema>& out) const;
  bool DeclaresTypes(uint64_t file_id) const;

  // Types and values.
  MappedType MapType(capnp::Type type, Use use, const std::string& where);
  std::string WireTypeName(capnp::Type type);
  Value MakeValue(capnp::StructSchema parent, capnp::StructSchema::Field field, Use use,
                  const std::string& where);
  std::string DefaultInitializer(const Value& value, capnp::StructSchema::Field field);
  void CheckPlainStruct(capnp::StructSchema schema, const std::string& where) const;
  std::vector<PairedField> PairFields(capnp::StructSchema schema) const;
  bool IsSkipped(capnp::StructSchema::Field field, const std::string& where) const;
  bool IsContext(capnp::Type type) const;
  bool IsThreadMap(capnp::Type type) const;

  // Declarations of this file.
  EnumModel MakeEnum(capnp::EnumSchema schema);
  StructModel MakeStruct(capnp::StructSchema schema);
  InterfaceModel MakeInterface(capnp::InterfaceSchema schema);
  MethodModel MakeMethod(const InterfaceModel& interface, capnp::InterfaceSchema::Method method);
  void MakeSpecialMethod(MethodModel& model, capnp::InterfaceSchema::Method method,
                         const std::string& where);
  std::string ParamsWireName(const InterfaceModel& interface, capnp::InterfaceSchema::Method method,
                             capnp::StructSchema schema, const char* suffix);
  std::vector<StructModel> SortStructs(std::vector<StructModel> structs) const;
  std::vector<std::string> Includes();

  const capnp::SchemaLoader& m_loader;
  RequestedFile::Reader m_file;
  uint64_t m_framework_file;
  std::map<uint64_t, Node::SourceInfo::Reader> m_docs;
  std::map<uint64_t, FileInfo> m_files;
};

// ----------------------------------------------------------------------------------------------
// Declarations and names.

const FileInfo& ModelBuilder::InfoOf(uint64_t file_id) {
  auto found = m_files.find(file_id);
  if (found != m_files.end()) return found->second;
  auto proto = m_loader.get(file_id).getProto();
  FileInfo info;
  info.cxx_ns =
      StripGlobal(FindText(proto.getAnnotations(), Annotation::kCxxNamespace).value_or(""));
  if (auto cp_ns = FindText(proto.getAnnotations(), Annotation::kNamespace))
    info.cp_ns = StripGlobal(*cp_ns);
  info.ns = info.cp_ns ? *info.cp_ns : info.cxx_ns;
  return m_files.emplace(file_id, std::move(info)).first->second;
}

uint64_t ModelBuilder::FileOf(capnp::Schema node) const {
  while (!node.getProto().isFile()) node = m_loader.get(node.getProto().getScopeId());
  return node.getProto().getId();
}

// The declarations enclosing `node` and `node` itself, outermost first, without the file.
std::vector<capnp::Schema> ModelBuilder::ScopeChain(capnp::Schema node) const {
  std::vector<capnp::Schema> chain;
  while (!node.getProto().isFile()) {
    chain.push_back(node);
    uint64_t scope = node.getProto().getScopeId();
    if (scope == 0) Fail({"internal: ", Str(node.getProto().getDisplayName()), " has no scope"});
    node = m_loader.get(scope);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::string LocalName(capnp::Schema node) {
  auto proto = node.getProto();
  return Str(proto.getDisplayName()).substr(proto.getDisplayNamePrefixLength());
}

// "Outer.Inner": the name the schema gives a declaration inside its file.
std::string ModelBuilder::SchemaPath(capnp::Schema node) const {
  std::string path;
  for (capnp::Schema part : ScopeChain(node)) path += (path.empty() ? "" : ".") + LocalName(part);
  return path;
}

// "Outer_Inner": crossproc-gen's unqualified C++ name of a declaration (nested ones flattened).
std::string ModelBuilder::LocalCxxName(capnp::Schema node) const {
  std::string name;
  for (capnp::Schema part : ScopeChain(node)) name += (name.empty() ? "" : "_") + LocalName(part);
  return name;
}

// Cap'n Proto's C++ name of a declaration: "::calc::wire::Outer::Inner".
std::string ModelBuilder::WireName(capnp::Schema node) {
  const FileInfo& info = InfoOf(FileOf(node));
  std::string name = info.cxx_ns.empty() ? "" : "::" + info.cxx_ns;
  for (capnp::Schema part : ScopeChain(node)) {
    name +=
        "::" +
        FindText(part.getProto().getAnnotations(), Annotation::kCxxName).value_or(LocalName(part));
  }
  return name;
}

// The C++ type crossproc uses for a struct, enum or interface: the wrapped class or the
// generated one.
std::string ModelBuilder::CxxTypeName(capnp::Schema node) {
  if (auto wrap = FindText(node.getProto().getAnnotations(), Annotation::kWrap)) return *wrap;
  const FileInfo& info = InfoOf(FileOf(node));
  return (info.ns.empty() ? "" : "::" + info.ns) + "::" + LocalCxxName(node);
}

std::string ModelBuilder::Doc(uint64_t id) const {
  auto found = m_docs.find(id);
  return found == m_docs.end() ? "" : Str(found->second.getDocComment());
}

std::string ModelBuilder::MemberDoc(uint64_t id, unsigned index) const {
  auto found = m_docs.find(id);
  if (found == m_docs.end() || index >= found->second.getMembers().size()) return "";
  return Str(found->second.getMembers()[index].getDocComment());
}

// Structs (not groups), enums and interfaces declared in `scope` and below, in schema order; for an
// imported file, only those the request carries (the ones some requested file uses).
void ModelBuilder::CollectDeclarations(capnp::Schema scope, std::vector<capnp::Schema>& out) const {
  for (auto nested : scope.getProto().getNestedNodes()) {
    // capnp passes every node of the requested files but only the used ones of imported files.
    KJ_IF_MAYBE (loaded, m_loader.tryGet(nested.getId())) {
      capnp::Schema node = *loaded;
      auto proto = node.getProto();
      if (proto.isStruct() && !proto.getStruct().getIsGroup()) out.push_back(node);
      if (proto.isEnum() || proto.isInterface()) out.push_back(node);
      if (proto.isStruct() || proto.isInterface()) CollectDeclarations(node, out);
    }
  }
}

bool ModelBuilder::DeclaresTypes(uint64_t file_id) const {
  std::vector<capnp::Schema> declarations;
  CollectDeclarations(m_loader.get(file_id), declarations);
  return !declarations.empty();
}

// ----------------------------------------------------------------------------------------------
// Types and values.

bool ModelBuilder::IsContext(capnp::Type type) const {
  return type.isStruct() && type.asStruct().getProto().getId() == ContextStructId();
}

bool ModelBuilder::IsThreadMap(capnp::Type type) const {
  return type.isInterface() && type.asInterface().getProto().getId() == ThreadMapInterfaceId();
}

void CheckNotGeneric(capnp::Schema schema, const std::string& where) {
  if (schema.getProto().getIsGeneric() || schema.isBranded()) {
    Fail({where, ": generic type ", Str(schema.getProto().getDisplayName()), " is not supported"});
  }
}

std::string ModelBuilder::WireTypeName(capnp::Type type) {
  switch (type.which()) {
    case Type::VOID:
      return "::capnp::Void";
    case Type::BOOL:
      return "bool";
    case Type::INT8:
      return "int8_t";
    case Type::INT16:
      return "int16_t";
    case Type::INT32:
      return "int32_t";
    case Type::INT64:
      return "int64_t";
    case Type::UINT8:
      return "uint8_t";
    case Type::UINT16:
      return "uint16_t";
    case Type::UINT32:
      return "uint32_t";
    case Type::UINT64:
      return "uint64_t";
    case Type::FLOAT32:
      return "float";
    case Type::FLOAT64:
      return "double";
    case Type::TEXT:
      return "::capnp::Text";
    case Type::DATA:
      return "::capnp::Data";
    case Type::LIST:
      return "::capnp::List<" + WireTypeName(type.asList().getElementType()) + ">";
    case Type::ENUM:
      return WireName(type.asEnum());
    case Type::STRUCT:
      return WireName(type.asStruct());
    case Type::INTERFACE:
      return WireName(type.asInterface());
    case Type::ANY_POINTER:
      return "::capnp::AnyPointer";
  }
  Fail({"internal: unknown schema type"});
}

MappedType ModelBuilder::MapType(capnp::Type type, Use use, const std::string& where) {
  auto primitive = [&](const std::string& name) {
    return MappedType{name, WireType{name, false}, true, false};
  };
  switch (type.which()) {
    case Type::VOID:
      Fail({where, ": Void values are not supported"});
    case Type::BOOL:
      return primitive("bool");
    case Type::INT8:
      return primitive("int8_t");
    case Type::INT16:
      return primitive("int16_t");
    case Type::INT32:
      return primitive("int32_t");
    case Type::INT64:
      return primitive("int64_t");
    case Type::UINT8:
      return primitive("uint8_t");
    case Type::UINT16:
      return primitive("uint16_t");
    case Type::UINT32:
      return primitive("uint32_t");
    case Type::UINT64:
      return primitive("uint64_t");
    case Type::FLOAT32:
      return primitive("float");
    case Type::FLOAT64:
      return primitive("double");
    case Type::TEXT:
      return MappedType{"std::string", WireType{"::capnp::Text", true}};
    case Type::DATA:
      return MappedType{"std::vector<uint8_t>", WireType{"::capnp::Data", true}};
    case Type::LIST: {
      MappedType element = MapType(type.asList().getElementType(), Use::kElement, where);
      return MappedType{"std::vector<" + element.cxx + ">",
                        WireType{"::capnp::List<" + element.wire.name + ">", true}};
    }
    case Type::ENUM: {
      capnp::EnumSchema schema = type.asEnum();
      CheckNotGeneric(schema, where);
      return MappedType{CxxTypeName(schema), WireType{WireName(schema), false}, true, false};
    }
    case Type::STRUCT: {
      capnp::StructSchema schema = type.asStruct();
      if (IsContext(type)) Fail({where, ": Context can only be a method parameter"});
      CheckNotGeneric(schema, where);
      return MappedType{CxxTypeName(schema), WireType{WireName(schema), true}};
    }
    case Type::INTERFACE: {
      capnp::InterfaceSchema schema = type.asInterface();
      if (IsFrameworkNode(schema, m_framework_file)) {
        Fail({where, ": ", LocalName(schema),
              " can only be used in `construct @0 (threadMap :ThreadMap) -> (threadMap "
              ":ThreadMap)`"});
      }
      CheckNotGeneric(schema, where);
      WireType wire{WireName(schema), false};
      if (use == Use::kResult)
        return MappedType{"std::unique_ptr<" + CxxTypeName(schema) + ">", wire, true, true};
      return MappedType{"std::shared_ptr<" + CxxTypeName(schema) + ">", wire};
    }
    case Type::ANY_POINTER:
      Fail({where, ": AnyPointer (and generic parameters) are not supported"});
  }
  Fail({"internal: unknown schema type"});
}

// The schema's default value of a primitive or enum field as a C++ member initializer.
std::string ModelBuilder::DefaultInitializer(const Value& value, capnp::StructSchema::Field field) {
  auto proto = field.getProto();
  if (value.optional || value.move_only) return "";
  // A $Cp.type may be anything, such as a std::chrono::duration: value-initialize it.
  if (FindText(proto.getAnnotations(), Annotation::kType)) return "{}";
  if (!value.by_value) return "";
  if (!proto.getSlot().getHadExplicitDefault()) return "{}";
  auto dflt = proto.getSlot().getDefaultValue();
  auto integer = [](int64_t number) {
    // The most negative int64_t has no literal of its own.
    return number == std::numeric_limits<int64_t>::min() ? std::string("INT64_MIN")
                                                         : std::to_string(number);
  };
  auto natural = [](uint64_t number) { return std::to_string(number) + "u"; };
  auto floating = [](auto number, const char* suffix) -> std::string {
    if (!std::isfinite(number)) return "";
    char buffer[64];
    auto end = std::to_chars(buffer, buffer + sizeof(buffer), number).ptr;
    std::string text(buffer, end);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text + suffix;
  };
  std::string literal;
  switch (dflt.which()) {
    case capnp::schema::Value::BOOL:
      literal = dflt.getBool() ? "true" : "false";
      break;
    case capnp::schema::Value::INT8:
      literal = integer(int64_t{dflt.getInt8()});
      break;
    case capnp::schema::Value::INT16:
      literal = integer(int64_t{dflt.getInt16()});
      break;
    case capnp::schema::Value::INT32:
      literal = integer(int64_t{dflt.getInt32()});
      break;
    case capnp::schema::Value::INT64:
      literal = integer(dflt.getInt64());
      break;
    case capnp::schema::Value::UINT8:
      literal = natural(uint64_t{dflt.getUint8()});
      break;
    case capnp::schema::Value::UINT16:
      literal = natural(uint64_t{dflt.getUint16()});
      break;
    case capnp::schema::Value::UINT32:
      literal = natural(uint64_t{dflt.getUint32()});
      break;
    case capnp::schema::Value::UINT64:
      literal = natural(dflt.getUint64());
      break;
    case capnp::schema::Value::FLOAT32:
      literal = floating(dflt.getFloat32(), "f");
      break;
    case capnp::schema::Value::FLOAT64:
      literal = floating(dflt.getFloat64(), "");
      break;
    case capnp::schema::Value::ENUM: {
      auto enumerants = field.getType().asEnum().getEnumerants();
      uint16_t index = dflt.getEnum();
      if (index < enumerants.size()) {
        literal =
            value.cxx_type + "::" + CxxIdentifier(Str(enumerants[index].getProto().getName()));
      }
      break;
    }
    default:
      break;
  }
  return literal.empty() ? "{}" : " = " + literal;
}

// Rejects unions and groups, which have no C++ counterpart here.
void ModelBuilder::CheckPlainStruct(capnp::StructSchema schema, const std::string& where) const {
  for (auto field : schema.getFields()) {
    auto proto = field.getProto();
    std::string name = Str(proto.getName());
    if (proto.getDiscriminantValue() != capnp::schema::Field::NO_DISCRIMINANT) {
      Fail({where, ": field '", name, "' is a union member; unions are not supported"});
    }
    if (proto.isGroup()) {
      Fail({where, ": field '", name, "' is a group (or named union); groups are not supported"});
    }
  }
}

std::vector<PairedField> ModelBuilder::PairFields(capnp::StructSchema schema) const {
  std::map<std::string, capnp::StructSchema::Field> by_name;
  for (auto field : schema.getFields()) by_name.emplace(Str(field.getProto().getName()), field);
  std::set<std::string> partners;
  for (auto field : schema.getFields()) {
    std::string name = Str(field.getProto().getName());
    auto has = by_name.find("has" + TitleCase(name));
    if (has != by_name.end() && has->second.getType().isBool()) partners.insert(has->first);
  }
  std::vector<PairedField> result;
  for (auto field : schema.getFields()) {
    std::string name = Str(field.getProto().getName());
    if (partners.count(name)) continue;
    PairedField paired{field, std::nullopt};
    if (partners.count("has" + TitleCase(name))) paired.has = by_name.at("has" + TitleCase(name));
    result.push_back(paired);
  }
  return result;
}

bool ModelBuilder::IsSkipped(capnp::StructSchema::Field field, const std::string& where) const {
  auto annotations = field.getProto().getAnnotations();
  if (HasAnnotation(annotations, Annotation::kSkip)) return true;
  if (auto count = FindInt32(annotations, Annotation::kCount)) {
    if (*count == 0) return true;
    if (*count != 1) {
      Fail({where, ": '", Str(field.getProto().getName()), "' has $count(", std::to_string(*count),
            "); only 0 and 1 are supported"});
    }
  }
  return false;
}

Value ModelBuilder::MakeValue(capnp::StructSchema parent, capnp::StructSchema::Field field, Use use,
                              const std::string& where) {
  auto proto = field.getProto();
  auto annotations = proto.getAnnotations();
  Value value;
  value.schema_name = Str(proto.getName());
  value.accessor = AccessorOf(field);
  value.cxx_name =
      CxxIdentifier(FindText(annotations, Annotation::kName).value_or(value.schema_name));
  const char* kind = use == Use::kParam ? "parameter" : use == Use::kResult ? "result" : "field";
  std::string field_where = where + ": " + kind + " '" + value.schema_name + "'";
  MappedType mapped = MapType(field.getType(), use, field_where);
  value.wire = mapped.wire;
  if (auto type = FindText(annotations, Annotation::kType)) {
    value.cxx_type = *type;
    value.move_only = type->starts_with("std::unique_ptr<");
    value.by_value = value.move_only;
  } else {
    value.cxx_type = mapped.cxx;
    value.by_value = mapped.by_value;
    value.move_only = mapped.move_only;
  }
  value.doc = MemberDoc(parent.getProto().getId(), field.getIndex());
  return value;
}

// ----------------------------------------------------------------------------------------------
// Declarations of this file.

EnumModel ModelBuilder::MakeEnum(capnp::EnumSchema schema) {
  CheckNotGeneric(schema, "enum " + SchemaPath(schema));
  EnumModel model;
  model.cxx_name = LocalCxxName(schema);
  model.doc = Doc(schema.getProto().getId());
  for (auto enumerant : schema.getEnumerants()) {
    model.enumerants.push_back(CxxIdentifier(Str(enumerant.getProto().getName())));
    model.enumerant_docs.push_back(MemberDoc(schema.getProto().getId(), enumerant.getIndex()));
  }
  return model;
}

StructModel ModelBuilder::MakeStruct(capnp::StructSchema schema) {
  std::string where = "struct " + SchemaPath(schema);
  CheckNotGeneric(schema, where);
  CheckPlainStruct(schema, where);
  StructModel model;
  model.wrapped = FindText(schema.getProto().getAnnotations(), Annotation::kWrap).has_value();
  model.cxx_name = model.wrapped ? "" : LocalCxxName(schema);
  model.cxx_type = CxxTypeName(schema);
  model.wire_type = WireName(schema);
  model.doc = Doc(schema.getProto().getId());
  for (auto field : schema.getFields()) {
    Value wire_field;
    wire_field.schema_name = Str(field.getProto().getName());
    wire_field.accessor = AccessorOf(field);
    wire_field.wire = WireType{WireTypeName(field.getType()), IsAdopted(field.getType())};
    model.wire_fields.push_back(std::move(wire_field));
  }
  for (const PairedField& paired : PairFields(schema)) {
    if (IsSkipped(paired.field, where)) continue;
    Value member = MakeValue(schema, paired.field, Use::kMember, where);
    if (paired.has) {
      member.optional = true;
      member.has_accessor = AccessorOf(*paired.has);
    }
    member.initializer = DefaultInitializer(member, paired.field);
    bool overridden =
        FindText(paired.field.getProto().getAnnotations(), Annotation::kType).has_value();
    capnp::Type type = paired.field.getType();
    if (!overridden && type.isStruct() && FileOf(type.asStruct()) == m_file.getId() &&
        !FindText(type.asStruct().getProto().getAnnotations(), Annotation::kWrap)) {
      model.value_deps.push_back(member.cxx_type);
    }
    model.members.push_back(std::move(member));
  }
  return model;
}

std::string ModelBuilder::ParamsWireName(const InterfaceModel& interface,
                                         capnp::InterfaceSchema::Method method,
                                         capnp::StructSchema schema, const char* suffix) {
  // A params or results struct written inline in the method has no scope; Cap'n Proto names it
  // after the method, inside the interface.
  if (schema.getProto().getScopeId() != 0) return WireName(schema);
  auto proto = method.getProto();
  std::string name =
      FindText(proto.getAnnotations(), Annotation::kCxxName).value_or(Str(proto.getName()));
  return interface.wire_type + "::" + TitleCase(name) + suffix;
}

// destroy @0 and construct @0 follow fixed conventions and have no C++ method.
void ModelBuilder::MakeSpecialMethod(MethodModel& model, capnp::InterfaceSchema::Method method,
                                     const std::string& where) {
  auto params = method.getParamType().getFields();
  auto results = method.getResultType().getFields();
  if (model.kind == MethodModel::Kind::kDestroy) {
    bool ok = results.size() == 0;
    for (auto field : params) {
      if (!IsContext(field.getType())) ok = false;
      model.context_index = static_cast<int>(field.getProto().getSlot().getOffset());
    }
    if (!ok) Fail({where, ": destroy @0 must be `destroy (context :Context) -> ()`"});
    return;
  }
  bool ok = params.size() == 1 && results.size() == 1 && IsThreadMap(params[0].getType()) &&
            IsThreadMap(results[0].getType());
  if (!ok) {
    Fail({where,
          ": construct @0 must be `construct (threadMap :ThreadMap) -> (threadMap :ThreadMap)`"});
  }
}

MethodModel ModelBuilder::MakeMethod(const InterfaceModel& interface,
                                     capnp::InterfaceSchema::Method method) {
  auto proto = method.getProto();
  MethodModel model;
  model.ordinal = method.getOrdinal();
  model.schema_name = Str(proto.getName());
  model.cxx_name = CxxIdentifier(
      FindText(proto.getAnnotations(), Annotation::kName).value_or(model.schema_name));
  model.doc = MemberDoc(method.getContainingInterface().getProto().getId(), method.getIndex());
  std::string where = "interface " + interface.schema_name + ", method " + model.schema_name;
  if (proto.getImplicitParameters().size() != 0)
    Fail({where, ": generic methods are not supported"});
  capnp::StructSchema params = method.getParamType();
  capnp::StructSchema results = method.getResultType();
  CheckNotGeneric(params, where);
  CheckNotGeneric(results, where);
  CheckPlainStruct(params, where + " params");
  CheckPlainStruct(results, where + " results");
  model.params_wire = ParamsWireName(interface, method, params, "Params");
  model.results_wire = ParamsWireName(interface, method, results, "Results");

  if (model.ordinal == 0 && (model.schema_name == "destroy" || model.schema_name == "construct")) {
    model.kind = model.schema_name == "destroy" ? MethodModel::Kind::kDestroy
                                                : MethodModel::Kind::kConstruct;
    MakeSpecialMethod(model, method, where);
    return model;
  }

  for (const PairedField& paired : PairFields(params)) {
    auto field = paired.field;
    if (IsContext(field.getType())) {
      if (model.context_index >= 0) Fail({where, ": more than one Context parameter"});
      model.context_index = static_cast<int>(field.getProto().getSlot().getOffset());
      continue;
    }
    if (IsSkipped(field, where)) continue;
    if (HasAnnotation(field.getProto().getAnnotations(), Annotation::kException)) {
      Fail({where, ": parameter '", Str(field.getProto().getName()),
            "' has $exception, which belongs on a result field"});
    }
    Param param{MakeValue(params, field, Use::kParam, where), std::nullopt};
    if (paired.has) {
      param.in.optional = true;
      param.in.has_accessor = AccessorOf(*paired.has);
    }
    model.params.push_back(std::move(param));
  }

  for (const PairedField& paired : PairFields(results)) {
    auto field = paired.field;
    std::string name = Str(field.getProto().getName());
    if (IsContext(field.getType())) Fail({where, ": result '", name, "' is a Context"});
    if (IsSkipped(field, where)) continue;
    if (auto exception = FindText(field.getProto().getAnnotations(), Annotation::kException)) {
      if (!field.getType().isText()) {
        Fail({where, ": result '", name, "' has $exception but is not Text"});
      }
      model.exceptions.push_back(ExceptionField{AccessorOf(field), *exception});
      continue;
    }
    Value value = MakeValue(results, field, Use::kResult, where);
    if (paired.has) {
      value.optional = true;
      value.has_accessor = AccessorOf(*paired.has);
    }
    if (name == "result") {
      model.result = std::move(value);
      continue;
    }
    auto in = std::find_if(model.params.begin(), model.params.end(),
                           [&](const Param& param) { return param.in.schema_name == name; });
    if (in == model.params.end()) {
      model.outputs.push_back(std::move(value));
      continue;
    }
    // The same name in params and results: one C++ in/out parameter of the param's type.
    if (in->in.optional != value.optional) {
      Fail({where, ": in/out parameter '", name, "' is optional (has", TitleCase(name),
            ") in only one of params and results"});
    }
    value.cxx_name = in->in.cxx_name;
    value.cxx_type = in->in.cxx_type;
    value.by_value = in->in.by_value;
    value.move_only = in->in.move_only;
    in->out = std::move(value);
  }
  model.async = model.outputs.empty() && !model.HasInOut();
  return model;
}

InterfaceModel ModelBuilder::MakeInterface(capnp::InterfaceSchema schema) {
  InterfaceModel model;
  model.schema_name = SchemaPath(schema);
  std::string where = "interface " + model.schema_name;
  CheckNotGeneric(schema, where);
  if (schema.getProto().getInterface().getSuperclasses().size() != 0) {
    Fail({where, ": interface inheritance (extends) is not supported"});
  }
  model.wrapped = FindText(schema.getProto().getAnnotations(), Annotation::kWrap).has_value();
  std::string local = LocalCxxName(schema);
  model.cxx_name = model.wrapped ? "" : local;
  model.cxx_type = CxxTypeName(schema);
  model.client_name = local + "Client";
  model.server_name = local + "Server";
  model.methods_name = "k" + local + "Methods";
  model.adapter_name = local + "FromFunction";
  model.wire_type = WireName(schema);
  model.doc = Doc(schema.getProto().getId());
  for (auto method : schema.getMethods()) model.methods.push_back(MakeMethod(model, method));
  // No <name>Async where the schema already has a method of that name.
  for (MethodModel& method : model.methods) {
    for (const MethodModel& other : model.methods) {
      if (other.cxx_name == method.cxx_name + "Async") method.async = false;
    }
    if (method.kind != MethodModel::Kind::kNormal) method.async = false;
  }
  // The shape libmultiprocess gives std::function: a `call` whose C++ signature is the function's.
  model.callback = model.methods.size() == 2 &&
                   model.methods[0].kind == MethodModel::Kind::kDestroy &&
                   model.methods[1].schema_name == "call" && model.methods[1].outputs.empty() &&
                   !model.methods[1].HasInOut();
  return model;
}

// Generated structs in schema order, except that a struct held by value by another comes first.
std::vector<StructModel> ModelBuilder::SortStructs(std::vector<StructModel> structs) const {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < structs.size(); ++i) index.emplace(structs[i].cxx_type, i);
  std::vector<int> state(structs.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<StructModel> sorted;
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    if (state[i] == 2) return;
    if (state[i] == 1) {
      Fail({"struct ", structs[i].cxx_name,
            " contains itself by value (directly or through other structs); use a List"});
    }
    state[i] = 1;
    for (const std::string& dep : structs[i].value_deps) {
      auto found = index.find(dep);
      if (found != index.end()) visit(found->second);
    }
    state[i] = 2;
    sorted.push_back(structs[i]);
  };
  for (std::size_t i = 0; i < structs.size(); ++i) visit(i);
  return sorted;
}

std::vector<std::string> ModelBuilder::Includes() {
  std::vector<std::string> includes;
  for (auto import : m_file.getImports()) {
    std::string name = Str(import.getName());
    if (import.getId() == m_framework_file || name.starts_with("/capnp/") ||
        !DeclaresTypes(import.getId())) {
      continue;
    }
    if (name.ends_with(".capnp")) name.resize(name.size() - 6);
    includes.push_back(name.starts_with("/") ? "#include <" + name.substr(1) + ".crossproc.h>"
                                             : "#include \"" + name + ".crossproc.h\"");
  }
  for (auto annotation : m_loader.get(m_file.getId()).getProto().getAnnotations()) {
    if (annotation.getId() == AnnotationId(Annotation::kInclude) ||
        annotation.getId() == AnnotationId(Annotation::kIncludeTypes)) {
      includes.push_back(IncludeLine(Str(annotation.getValue().getText())));
    }
  }
  return includes;
}

FileModel ModelBuilder::Build() {
  FileModel model;
  model.filename = Str(m_file.getFilename());
  std::string stem = model.filename;
  if (stem.starts_with("/")) stem.erase(0, 1);
  if (stem.ends_with(".capnp")) stem.resize(stem.size() - 6);
  model.stem = stem;
  model.basename =
      stem.substr(stem.find_last_of('/') == std::string::npos ? 0 : stem.find_last_of('/') + 1);

  std::vector<capnp::Schema> declarations;
  capnp::Schema file = m_loader.get(m_file.getId());
  if (m_file.getId() != m_framework_file) CollectDeclarations(file, declarations);

  // The namespace: $Cp.namespace, or $Cxx.namespace when nothing generated would clash with
  // Cap'n Proto's own types there (every struct and interface wrapped, no enum).
  const FileInfo& info = InfoOf(m_file.getId());
  if (info.cp_ns && *info.cp_ns == info.cxx_ns) {
    Fail({"$Cp.namespace(\"", *info.cp_ns, "\") must differ from $Cxx.namespace, which holds ",
          "Cap'n Proto's own generated types"});
  }
  for (capnp::Schema node : declarations) {
    bool wrapped = FindText(node.getProto().getAnnotations(), Annotation::kWrap).has_value();
    if (!info.cp_ns && !wrapped) {
      std::string kind = node.getProto().isEnum()     ? "enum"
                         : node.getProto().isStruct() ? "struct"
                                                      : "interface";
      Fail({kind, " ", SchemaPath(node), " would be generated in namespace \"", info.cxx_ns,
            "\", where Cap'n Proto's C++ type of the same name lives: add ",
            "$Cp.namespace(\"<namespace>\") to the file (Cp = import \"/crossproc/proxy.capnp\")"});
    }
  }
  if (info.ns.empty() && !declarations.empty()) {
    Fail({"no namespace for the generated code: add $Cp.namespace(\"<namespace>\") to the file"});
  }
  model.ns = info.ns;
  model.relative_ns = info.ns == info.cxx_ns ? "" : info.ns;
  model.includes = Includes();

  std::vector<StructModel> structs;
  for (capnp::Schema node : declarations) {
    auto proto = node.getProto();
    if (proto.isEnum()) model.enums.push_back(MakeEnum(node.asEnum()));
    if (proto.isStruct()) structs.push_back(MakeStruct(node.asStruct()));
    if (proto.isInterface()) model.interfaces.push_back(MakeInterface(node.asInterface()));
  }
  model.structs = SortStructs(std::move(structs));
  return model;
}

}  // namespace

FileModel BuildModel(const capnp::SchemaLoader& loader,
                     capnp::schema::CodeGeneratorRequest::Reader request,
                     capnp::schema::CodeGeneratorRequest::RequestedFile::Reader file) {
  return ModelBuilder(loader, request, file).Build();
}

}  // namespace crossproc::gen
