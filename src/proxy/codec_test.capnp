# Message types used by the type-mapping tests.
@0xb8f0c3d2e1a49765;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("codec_test");

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct Numbers {
  b @0 :Bool;
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
  color @11 :Color;
}

struct Pair {
  key @0 :Text;
  value @1 :Int64;
}

struct Triple {
  a @0 :Int32;
  b @1 :Text;
  c @2 :Float64;
}
