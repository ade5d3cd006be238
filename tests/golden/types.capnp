# Golden test: every type mapping crossproc-gen knows (primitives, Text, Data, lists, enums,
# nested and recursive structs, optional values, schema defaults, $Cp.type overrides).
@0xaa522672a1270cbe;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("golden::types::wire");
$Cp.namespace("golden::types");

enum Color {
  # A color, to test enums.
  red @0;
  green @1;
  blue @2;
  # The last one.
}

struct Primitives {
  # One field of each scalar type.
  flag @0 :Bool;
  i8 @1 :Int8;
  i16 @2 :Int16;
  i32 @3 :Int32;
  i64 @4 :Int64;
  u8 @5 :UInt8;
  u16 @6 :UInt16;
  u32 @7 :UInt32;
  u64 @8 :UInt64;
  f32 @9 :Float32;
  f64 @10 :Float64;
  text @11 :Text;
  data @12 :Data;
  color @13 :Color;
}

struct Defaults {
  # Schema defaults become member initializers.
  count @0 :Int32 = 5;
  ratio @1 :Float64 = 0.25;
  enabled @2 :Bool = true;
  color @3 :Color = green;
  biggest @4 :UInt64 = 18446744073709551615;
  smallest @5 :Int64 = -9223372036854775808;
  scale @6 :Float32 = 2;
  offset @7 :Int16 = -3;
}

struct Shape {
  # Declared before Point, which it holds by value: Point must be defined first.
  name @0 :Text;
  origin @1 :Point;
  points @2 :List(Point);
  corners @3 :List(List(Point));
  tags @4 :List(Text);
  colors @5 :List(Color);
  blobs @6 :List(Data);
  style @7 :Style;
  children @8 :List(Shape);
  # A tree: recursion through a list is fine.
  label @9 :Text;
  hasLabel @10 :Bool;
  # label and hasLabel make one std::optional<std::string> member.
  center @11 :Point;
  hasCenter @12 :Bool;
  internalId @13 :UInt64 $Cp.skip;
  # Not in the C++ struct.
  renamed @14 :Int32 $Cp.name("renamedMember");
  matrix @15 :List(List(Int32));

  struct Style {
    # A nested struct: generated as Shape_Style.
    color @0 :Color;
    width @1 :Float32;
    kind @2 :Kind;

    enum Kind {
      solid @0;
      dashed @1;
    }
  }
}

struct Point {
  x @0 :Float64;
  y @1 :Float64;
}

struct Pair {
  # A list of pairs can be a std::map.
  key @0 :Text;
  value @1 :Int64;
}

struct Overrides {
  # $Cp.type picks the C++ type; the codecs decide whether it fits the wire type.
  counts @0 :List(Pair) $Cp.type("std::map<std::string, int64_t>");
  names @1 :List(Text) $Cp.type("std::set<std::string>");
  timeout @2 :Int64 $Cp.type("std::chrono::seconds");
  bytes @3 :Data $Cp.type("std::string");
}

struct Empty {}

interface TypeEcho {
  # Passes every kind of value through a method.
  destroy @0 (context :Cp.Context) -> ();
  primitives @1 (context :Cp.Context, value :Primitives) -> (result :Primitives);
  scalars @2 (context :Cp.Context, flag :Bool, i8 :Int8, i16 :Int16, i32 :Int32, i64 :Int64,
              u8 :UInt8, u16 :UInt16, u32 :UInt32, u64 :UInt64, f32 :Float32, f64 :Float64,
              color :Color) -> (result :Float64);
  # Scalars and enums are passed by value.
  blobs @3 (context :Cp.Context, text :Text, data :Data) -> (result :Data);
  shapes @4 (context :Cp.Context, shapes :List(Shape), matrix :List(List(Int32)))
      -> (result :List(Shape));
  optional @5 (context :Cp.Context, label :Text, hasLabel :Bool) -> (result :Point, hasResult :Bool);
  # Optional parameters and results.
  overrides @6 (context :Cp.Context,
                counts :List(Pair) $Cp.type("std::map<std::string, int64_t>"),
                timeout :Int64 $Cp.type("std::chrono::milliseconds"),
                bytes :Data $Cp.type("std::string"))
      -> (result :List(Text) $Cp.type("std::set<std::string>"));
  defaults @7 (context :Cp.Context, value :Defaults, empty :Empty) -> (result :Overrides);
  style @8 (context :Cp.Context) -> (result :Shape.Style, kind :Shape.Style.Kind);
  ping @9 () -> ();
  # No Context: runs on the connection's event-loop thread.
}
