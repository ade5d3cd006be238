# Message types for the type-mapping unit tests (codec_test.cpp).
@0xb8f0c3d2e1a49765;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("codec_test");

enum Color {
  red @0;
  green @1;
  blue @2;
}

# Key/value entry of a map<std::string, int64_t>, and the struct of a std::pair.
struct Pair {
  key @0 :Text;
  value @1 :Int64;
}

# The struct of a std::tuple<int32_t, std::string, double>.
struct Triple {
  a @0 :Int32;
  b @1 :Text;
  c @2 :Float64;
}

# Carried by a hand-written struct codec, as crossproc-gen would write it.
struct Point {
  x @0 :Float64;
  y @1 :Float64;
}

# Nested structs, lists of structs and recursion, through hand-written codecs.
struct Shape {
  name @0 :Text;
  origin @1 :Point;
  outline @2 :List(Point);
  tags @3 :List(Text);
  children @4 :List(Shape);
}

# A pair whose elements are a struct and a list.
struct Labeled {
  label @0 :Text;
  points @1 :List(Point);
}

# Entry of a map<std::string, Point-like> (a struct value).
struct NamedPoint {
  name @0 :Text;
  point @1 :Point;
}

# Entry of a map<Uint256, Transaction>: user types as key and value.
struct TxEntry {
  hash @0 :Data;
  tx @1 :Data;
}

# A capability, to test lists of interfaces.
interface Handle {
  id @0 () -> (id :UInt32);
}

struct Handles {
  handles @0 :List(Handle);
}
