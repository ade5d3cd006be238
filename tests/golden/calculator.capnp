# Golden test: methods and objects (results, output and in/out parameters, carried exceptions,
# destroy, Init with construct, interfaces as results and parameters, callbacks).
@0xd26c303896acfc0f;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("golden::calc::wire");
$Cp.namespace("golden::calc");
$Cp.include("calculator_errors.h");

interface Init {
  # The bootstrap interface.
  construct @0 (threadMap :Cp.ThreadMap) -> (threadMap :Cp.ThreadMap);
  makeCalculator @1 (context :Cp.Context, name :Text) -> (result :Calculator);
  # Returns a new calculator, owned by the caller.
}

interface Calculator {
  # A calculator that lives in another process.
  destroy @0 (context :Cp.Context) -> ();
  add @1 (context :Cp.Context, a :Float64, b :Float64) -> (result :Float64);
  # Adds two numbers.
  divide @2 (context :Cp.Context, a :Float64, b :Float64)
      -> (result :Float64, error :Text $Cp.exception("golden::calc::DivisionByZero"));
  divmod @3 (context :Cp.Context, a :Int64, b :Int64) -> (quotient :Int64, remainder :Int64);
  # No `result`: both results are output parameters.
  accumulate @4 (context :Cp.Context, total :Float64, value :Float64) -> (total :Float64);
  # `total` is an in/out parameter.
  minMax @5 (context :Cp.Context, values :List(Float64))
      -> (result :Bool, min :Float64, max :Float64,
          overflow :Text $Cp.exception("golden::calc::Overflow"),
          error :Text $Cp.exception("golden::calc::DivisionByZero"));
  clear @6 () -> () $Cp.name("reset");
  forEach @7 (context :Cp.Context, visitor :Visitor) -> ();
  apply @8 (context :Cp.Context, fn :Visitor $Cp.type("std::function<double(double)>")) -> ();
  subscribe @9 (context :Cp.Context, visitor :Visitor) -> (subscription :Subscription);
  lastError @10 (context :Cp.Context) -> (result :Text, hasResult :Bool);
  history @11 (context :Cp.Context) -> (result :List(Text));
  transfer @12 (context :Cp.Context, target :Calculator $Cp.type("std::unique_ptr<golden::calc::Calculator>"))
      -> ();
  # A std::unique_ptr parameter is passed by value.
  run @13 (context :Cp.Context,
           progress :Progress $Cp.type("std::function<void(const std::string&, int32_t)>")) -> ();
}

interface Visitor {
  # A callback interface, as libmultiprocess makes for std::function<double(double)>.
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, value :Float64) -> (result :Float64);
}

interface Progress {
  # A callback without a result: std::function<void(const std::string&, int32_t)>.
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, stage :Text, percent :Int32) -> ();
}

interface Subscription {
  # Has no destroy method: dropping the proxy just releases the capability.
  cancel @0 (context :Cp.Context) -> ();
}
