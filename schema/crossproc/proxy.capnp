# crossproc's framework schema: thread handles, the call context and the annotations that
# steer crossproc-gen. The file ID and the type IDs are those of libmultiprocess's proxy.capnp,
# so schemas written for either framework describe the same wire format.
@0xcc316e3f71a040fb;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crossproc::wire");

# ---------------------------------------------------------------------------------------------
# Annotations shared with libmultiprocess (same IDs, same meaning).

annotation include @0xb899f3c154fdb458 (file): Text;
# A header the generated code must include (for example the one declaring a wrapped class).

annotation includeTypes @0xbcec15648e8a0cf1 (file): Text;
# A header declaring the C++ types that wrapped classes use; included by generated code.

annotation wrap @0xe6f46079b7b1405e (interface, struct): Text;
# Bind this interface or struct to an existing, hand-written C++ class instead of generating
# one. For an interface the generated client and server implement and call that class, so the
# compiler rejects any difference between the schema and the class.

annotation count @0xd02682b319f69b38 (param, struct, interface): Int32;
# How many C++ arguments one schema field stands for. crossproc-gen accepts 0 (the field is
# filled by the framework, as Context is) and 1.

annotation exception @0x996a183200992f88 (param): Text;
# The result field carries an exception of the named C++ type: the server catches that type
# and stores its message here, the client rethrows the same type.

annotation name @0xb594888f63f4dbb9 (field, method): Text;
# The C++ name of a method or member when it differs from the schema name.

annotation skip @0x824c08b82695d8dd (field): Void;
# The field has no C++ counterpart (same as count(0)).

# ---------------------------------------------------------------------------------------------
# crossproc's own annotations.

annotation namespace @0xd43a9f4e3c1e5a01 (file): Text;
# The C++ namespace of the generated interfaces, structs and proxies. It must differ from the
# file's $Cxx.namespace, which holds Cap'n Proto's own generated message types.

annotation type @0xd43a9f4e3c1e5a02 (field, param): Text;
# The C++ type of a field or parameter when the default mapping is not wanted, for example
# "std::map<std::string, int64_t>" for a List of pair structs, or "std::string" for Data.

# ---------------------------------------------------------------------------------------------
# Thread handles and the call context.

interface ThreadMap @0xee5e37179ad9dc9d $count(0) {
  # Held by each side of a connection for its peer: lets the peer create server threads.
  makeThread @0 (name :Text) -> (result :Thread);
  # Create a thread dedicated to one calling thread of the peer; `name` names the caller.
  makePool @1 (count :UInt32) -> ();
  # Pre-create `count` threads that serve calls arriving without a thread handle.
  extensions @2 (receivable :UInt64) -> (receivable :UInt64);
  # crossproc's own addition, unknown to libmultiprocess (which answers it as unimplemented):
  # each side says which optional transport features it can receive, as bits. Bit 0: message
  # segments passed as sealed memfds over a unix socket (see crossproc's docs/design.md).
}

interface Thread @0x81c1e2600d0b56c5 {
  # One thread in the process that exported it.
  getName @0 () -> (result :Text);
}

struct Context @0x9c44e6645d0b22c6 $count(0) {
  # Passed with every call of a method that declares it; filled in by the framework.
  thread @0 :Thread;
  # The callee's thread that must run the call.
  callbackThread @1 :Thread;
  # The caller's thread that runs any callback made while the call is being served.
}
