// Round trips of every mapped C++ type through real Cap'n Proto messages: built with the codecs,
// serialized to words, read back from the words. Covers empty, extreme and unicode values, refused
// values, damaged messages, and user types plugged in through the customization point.
#include <crossproc/types.h>

#include "codec_test.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <kj/async.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <list>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// User types, as an application would define them.

// A 256-bit number (a hash), carried as 32 bytes of Data.
class Uint256 {
 public:
  Uint256() = default;
  explicit Uint256(const std::array<uint8_t, 32>& bytes) : m_bytes(bytes) {}
  explicit Uint256(uint8_t fill) { m_bytes.fill(fill); }
  const std::array<uint8_t, 32>& Bytes() const { return m_bytes; }
  bool operator==(const Uint256&) const = default;
  bool operator<(const Uint256& other) const { return m_bytes < other.m_bytes; }

 private:
  std::array<uint8_t, 32> m_bytes{};
};

// A class with its own byte format (version, then outputs of amount and script), carried as the
// bytes it writes. Its parser is strict: truncated input and trailing bytes are errors.
class Transaction {
 public:
  struct Output {
    uint64_t amount = 0;
    std::string script;
    bool operator==(const Output&) const = default;
  };

  Transaction() = default;
  Transaction(uint32_t version, std::vector<Output> outputs)
      : m_version(version), m_outputs(std::move(outputs)) {}
  bool operator==(const Transaction&) const = default;

  std::vector<uint8_t> Serialize() const {
    std::vector<uint8_t> out;
    PutInteger(out, m_version, 4);
    PutInteger(out, m_outputs.size(), 4);
    for (const Output& output : m_outputs) {
      PutInteger(out, output.amount, 8);
      PutInteger(out, output.script.size(), 4);
      out.insert(out.end(), output.script.begin(), output.script.end());
    }
    return out;
  }

  // Throws std::invalid_argument on malformed input.
  static Transaction Deserialize(const uint8_t* data, std::size_t size) {
    std::size_t at = 0;
    auto take = [&](std::size_t bytes) {
      if (size - at < bytes) throw std::invalid_argument("transaction truncated");
      uint64_t value = 0;
      for (std::size_t i = 0; i < bytes; ++i) value |= uint64_t{data[at + i]} << (8 * i);
      at += bytes;
      return value;
    };
    Transaction tx;
    tx.m_version = static_cast<uint32_t>(take(4));
    uint64_t count = take(4);
    for (uint64_t i = 0; i < count; ++i) {
      Output output;
      output.amount = take(8);
      uint64_t length = take(4);
      if (size - at < length) throw std::invalid_argument("transaction script truncated");
      output.script.assign(reinterpret_cast<const char*>(data + at), length);
      at += length;
      tx.m_outputs.push_back(std::move(output));
    }
    if (at != size) throw std::invalid_argument("trailing bytes after transaction");
    return tx;
  }

 private:
  static void PutInteger(std::vector<uint8_t>& out, uint64_t value, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }

  uint32_t m_version = 0;
  std::vector<Output> m_outputs;
};

// An amount of money that is never negative, carried as an Int64 count of cents.
struct Amount {
  int64_t cents = 0;
  bool operator==(const Amount&) const = default;
};

// Plain structs carried by hand-written struct codecs, the way crossproc-gen writes them.
struct GeoPoint {
  double x = 0;
  double y = 0;
  bool operator==(const GeoPoint&) const = default;
};

struct Shape {
  std::string name;
  GeoPoint origin;
  std::vector<GeoPoint> outline;
  std::set<std::string> tags;
  std::vector<Shape> children;
  bool operator==(const Shape&) const = default;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The customization point: one Codec specialization per (schema type, C++ type).

// Uint256 reuses the std::array codec, which refuses Data of any size but 32.
template <>
struct crossproc::Codec<capnp::Data, Uint256> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const Uint256& value) {
    return crossproc::Build<capnp::Data>(encoder, value.Bytes());
  }
  static Uint256 Read(Decoder& decoder, capnp::Data::Reader reader) {
    return Uint256(crossproc::Read<capnp::Data, std::array<uint8_t, 32>>(decoder, reader));
  }
};

// Transaction writes its own bytes; its parser's errors become RemoteError for the caller.
template <>
struct crossproc::Codec<capnp::Data, Transaction> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const Transaction& tx) {
    return crossproc::Build<capnp::Data>(encoder, tx.Serialize());
  }
  static Transaction Read(Decoder&, capnp::Data::Reader reader) {
    try {
      return Transaction::Deserialize(reader.begin(), reader.size());
    } catch (const std::invalid_argument& e) {
      throw RemoteError(ErrorKind::kFailed, "", std::string("bad transaction: ") + e.what());
    }
  }
};

// Numbers and enums: Build returns the wire value itself. Read checks what the type promises.
template <>
struct crossproc::Codec<int64_t, Amount> {
  static int64_t Build(Encoder&, const Amount& value) { return value.cents; }
  static Amount Read(Decoder&, int64_t cents) {
    if (cents < 0) throw RemoteError(ErrorKind::kFailed, "", "negative amount");
    return Amount{cents};
  }
};

// Struct codecs define Fill (used in place for list elements and nested fields) and Read;
// StructCodec derives Build from Fill.
template <>
struct crossproc::Codec<codec_test::Point, GeoPoint>
    : StructCodec<codec_test::Point, GeoPoint, Codec<codec_test::Point, GeoPoint>> {
  static void Fill(Encoder& encoder, codec_test::Point::Builder builder, const GeoPoint& value) {
    builder.setX(crossproc::Build<double>(encoder, value.x));
    builder.setY(crossproc::Build<double>(encoder, value.y));
  }
  static GeoPoint Read(Decoder& decoder, codec_test::Point::Reader reader) {
    return {crossproc::Read<double, double>(decoder, reader.getX()),
            crossproc::Read<double, double>(decoder, reader.getY())};
  }
};

template <>
struct crossproc::Codec<codec_test::Shape, Shape>
    : StructCodec<codec_test::Shape, Shape, Codec<codec_test::Shape, Shape>> {
  static void Fill(Encoder& encoder, codec_test::Shape::Builder builder, const Shape& value) {
    builder.adoptName(crossproc::Build<capnp::Text>(encoder, value.name));
    builder.adoptOrigin(crossproc::Build<codec_test::Point>(encoder, value.origin));
    builder.adoptOutline(crossproc::Build<capnp::List<codec_test::Point>>(encoder, value.outline));
    builder.adoptTags(crossproc::Build<capnp::List<capnp::Text>>(encoder, value.tags));
    builder.adoptChildren(
        crossproc::Build<capnp::List<codec_test::Shape>>(encoder, value.children));
  }
  static Shape Read(Decoder& decoder, codec_test::Shape::Reader reader) {
    Shape value;
    value.name = crossproc::Read<capnp::Text, std::string>(decoder, reader.getName());
    value.origin = crossproc::Read<codec_test::Point, GeoPoint>(decoder, reader.getOrigin());
    value.outline = crossproc::Read<capnp::List<codec_test::Point>, std::vector<GeoPoint>>(
        decoder, reader.getOutline());
    value.tags =
        crossproc::Read<capnp::List<capnp::Text>, std::set<std::string>>(decoder, reader.getTags());
    value.children = crossproc::Read<capnp::List<codec_test::Shape>, std::vector<Shape>>(
        decoder, reader.getChildren());
    return value;
  }
};

// A capability as its Cap'n Proto client, to test lists of interfaces without the runtime.
template <>
struct crossproc::Codec<codec_test::Handle, codec_test::Handle::Client> {
  static codec_test::Handle::Client Build(Encoder&, const codec_test::Handle::Client& value) {
    // Cap'n Proto copies a client from a non-const reference only; the copy adds a reference.
    return const_cast<codec_test::Handle::Client&>(value);
  }
  static codec_test::Handle::Client Read(Decoder&, codec_test::Handle::Client cap) { return cap; }
};

// ---------------------------------------------------------------------------------------------
// Positional field access, written by hand exactly as crossproc-gen emits it.

template <>
struct crossproc::StructFields<codec_test::Pair> {
  static constexpr std::size_t kCount = 2;
  template <std::size_t I>
  using FieldWire = std::tuple_element_t<I, std::tuple<capnp::Text, int64_t>>;
  template <std::size_t I>
  static capnp::ReaderFor<FieldWire<I>> Get(codec_test::Pair::Reader reader) {
    if constexpr (I == 0) {
      return reader.getKey();
    } else if constexpr (I == 1) {
      return reader.getValue();
    }
  }
  template <std::size_t I, typename T>
  static void Set(Encoder& encoder, codec_test::Pair::Builder builder, T&& value) {
    if constexpr (I == 0) {
      builder.adoptKey(crossproc::Build<capnp::Text>(encoder, std::forward<T>(value)));
    } else if constexpr (I == 1) {
      builder.setValue(crossproc::Build<int64_t>(encoder, std::forward<T>(value)));
    }
  }
};

template <>
struct crossproc::StructFields<codec_test::Triple> {
  static constexpr std::size_t kCount = 3;
  template <std::size_t I>
  using FieldWire = std::tuple_element_t<I, std::tuple<int32_t, capnp::Text, double>>;
  template <std::size_t I>
  static capnp::ReaderFor<FieldWire<I>> Get(codec_test::Triple::Reader reader) {
    if constexpr (I == 0) {
      return reader.getA();
    } else if constexpr (I == 1) {
      return reader.getB();
    } else if constexpr (I == 2) {
      return reader.getC();
    }
  }
  template <std::size_t I, typename T>
  static void Set(Encoder& encoder, codec_test::Triple::Builder builder, T&& value) {
    if constexpr (I == 0) {
      builder.setA(crossproc::Build<int32_t>(encoder, std::forward<T>(value)));
    } else if constexpr (I == 1) {
      builder.adoptB(crossproc::Build<capnp::Text>(encoder, std::forward<T>(value)));
    } else if constexpr (I == 2) {
      builder.setC(crossproc::Build<double>(encoder, std::forward<T>(value)));
    }
  }
};

template <>
struct crossproc::StructFields<codec_test::Labeled> {
  static constexpr std::size_t kCount = 2;
  template <std::size_t I>
  using FieldWire =
      std::tuple_element_t<I, std::tuple<capnp::Text, capnp::List<codec_test::Point>>>;
  template <std::size_t I>
  static capnp::ReaderFor<FieldWire<I>> Get(codec_test::Labeled::Reader reader) {
    if constexpr (I == 0) {
      return reader.getLabel();
    } else if constexpr (I == 1) {
      return reader.getPoints();
    }
  }
  template <std::size_t I, typename T>
  static void Set(Encoder& encoder, codec_test::Labeled::Builder builder, T&& value) {
    if constexpr (I == 0) {
      builder.adoptLabel(crossproc::Build<capnp::Text>(encoder, std::forward<T>(value)));
    } else if constexpr (I == 1) {
      builder.adoptPoints(
          crossproc::Build<capnp::List<codec_test::Point>>(encoder, std::forward<T>(value)));
    }
  }
};

template <>
struct crossproc::StructFields<codec_test::NamedPoint> {
  static constexpr std::size_t kCount = 2;
  template <std::size_t I>
  using FieldWire = std::tuple_element_t<I, std::tuple<capnp::Text, codec_test::Point>>;
  template <std::size_t I>
  static capnp::ReaderFor<FieldWire<I>> Get(codec_test::NamedPoint::Reader reader) {
    if constexpr (I == 0) {
      return reader.getName();
    } else if constexpr (I == 1) {
      return reader.getPoint();
    }
  }
  template <std::size_t I, typename T>
  static void Set(Encoder& encoder, codec_test::NamedPoint::Builder builder, T&& value) {
    if constexpr (I == 0) {
      builder.adoptName(crossproc::Build<capnp::Text>(encoder, std::forward<T>(value)));
    } else if constexpr (I == 1) {
      builder.adoptPoint(crossproc::Build<codec_test::Point>(encoder, std::forward<T>(value)));
    }
  }
};

template <>
struct crossproc::StructFields<codec_test::TxEntry> {
  static constexpr std::size_t kCount = 2;
  template <std::size_t I>
  using FieldWire = std::tuple_element_t<I, std::tuple<capnp::Data, capnp::Data>>;
  template <std::size_t I>
  static capnp::ReaderFor<FieldWire<I>> Get(codec_test::TxEntry::Reader reader) {
    if constexpr (I == 0) {
      return reader.getHash();
    } else if constexpr (I == 1) {
      return reader.getTx();
    }
  }
  template <std::size_t I, typename T>
  static void Set(Encoder& encoder, codec_test::TxEntry::Builder builder, T&& value) {
    if constexpr (I == 0) {
      builder.adoptHash(crossproc::Build<capnp::Data>(encoder, std::forward<T>(value)));
    } else if constexpr (I == 1) {
      builder.adoptTx(crossproc::Build<capnp::Data>(encoder, std::forward<T>(value)));
    }
  }
};

namespace {

using crossproc::ErrorKind;
using crossproc::RemoteError;

// ---------------------------------------------------------------------------------------------
// Test doubles and round-trip helpers.

// Allocates in a message; refuses capabilities (the runtime's job, not under test here).
class TestEncoder final : public crossproc::Encoder {
 public:
  explicit TestEncoder(capnp::Orphanage orphanage) : Encoder(orphanage) {}
  capnp::Capability::Client ExportServer(std::shared_ptr<crossproc::ServerBase>) override {
    throw std::logic_error("TestEncoder stores no capabilities");
  }
  capnp::Capability::Client ExportRef(const std::shared_ptr<crossproc::detail::CapRef>&) override {
    throw std::logic_error("TestEncoder stores no capabilities");
  }
};

class TestDecoder final : public crossproc::Decoder {
 public:
  std::shared_ptr<crossproc::detail::CapRef> Import(capnp::Capability::Client) override {
    throw std::logic_error("TestDecoder imports no capabilities");
  }
};

// Builds `value` as wire type Wire with In's codec, serializes the message to words, and reads
// the field back from the words as an Out. Numbers and enums travel as the only element of a
// list, everything else as the message's root.
template <typename Wire, typename Out, typename In>
Out Convert(const In& value) {
  capnp::MallocMessageBuilder builder;
  TestEncoder encoder(builder.getOrphanage());
  auto root = builder.getRoot<capnp::AnyPointer>();
  if constexpr (crossproc::kIsValueWire<Wire>) {
    root.initAs<capnp::List<Wire>>(1).set(0, crossproc::Build<Wire>(encoder, value));
  } else {
    root.adopt(crossproc::Build<Wire>(encoder, value));
  }
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  capnp::FlatArrayMessageReader reader(words);
  TestDecoder decoder;
  if constexpr (crossproc::kIsValueWire<Wire>) {
    return crossproc::Read<Wire, Out>(decoder, reader.getRoot<capnp::List<Wire>>()[0]);
  } else {
    return crossproc::Read<Wire, Out>(decoder, reader.getRoot<capnp::AnyPointer>().getAs<Wire>());
  }
}

template <typename Wire, typename T>
T RoundTrip(const T& value) {
  return Convert<Wire, T>(value);
}

// Runs `action`, which must throw RemoteError of kind kFailed, and returns its message.
template <typename Action>
std::string CodecError(Action action) {
  try {
    action();
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kFailed);
    EXPECT_EQ(e.type_name(), "");
    return e.message();
  }
  ADD_FAILURE() << "expected a RemoteError";
  return "";
}

template <typename T>
void ExpectLimitsRoundTrip() {
  for (T value : {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T{0}, T{1}}) {
    EXPECT_EQ((RoundTrip<T>(value)), value);
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers.

TEST(Codec, NumbersOfEveryWidthAtTheirLimits) {
  for (bool flag : {false, true}) EXPECT_EQ((RoundTrip<bool>(flag)), flag);
  ExpectLimitsRoundTrip<int8_t>();
  ExpectLimitsRoundTrip<int16_t>();
  ExpectLimitsRoundTrip<int32_t>();
  ExpectLimitsRoundTrip<int64_t>();
  ExpectLimitsRoundTrip<uint8_t>();
  ExpectLimitsRoundTrip<uint16_t>();
  ExpectLimitsRoundTrip<uint32_t>();
  ExpectLimitsRoundTrip<uint64_t>();
}

TEST(Codec, FloatingPointSpecialValues) {
  using F = std::numeric_limits<float>;
  using D = std::numeric_limits<double>;
  for (float value :
       {F::lowest(), F::max(), F::min(), F::denorm_min(), F::infinity(), -F::infinity(), 0.1f}) {
    EXPECT_EQ((RoundTrip<float>(value)), value);
  }
  for (double value :
       {D::lowest(), D::max(), D::min(), D::denorm_min(), D::infinity(), -D::infinity(), 0.1}) {
    EXPECT_EQ((RoundTrip<double>(value)), value);
  }
  EXPECT_TRUE(std::isnan(RoundTrip<double>(D::quiet_NaN())));
  EXPECT_TRUE(std::isnan(RoundTrip<float>(F::quiet_NaN())));
  EXPECT_TRUE(std::signbit(RoundTrip<double>(-0.0)));
}

TEST(Codec, CxxTypeOfAnotherWidthThanTheSchema) {
  EXPECT_EQ((RoundTrip<int32_t, int>(std::numeric_limits<int>::min())),
            std::numeric_limits<int>::min());
  EXPECT_EQ((RoundTrip<int64_t, long>(std::numeric_limits<long>::max())),
            std::numeric_limits<long>::max());
  EXPECT_EQ((RoundTrip<uint64_t, std::size_t>(std::numeric_limits<std::size_t>::max())),
            std::numeric_limits<std::size_t>::max());
  EXPECT_EQ((RoundTrip<int64_t, int8_t>(-128)), -128);
  EXPECT_EQ((RoundTrip<int32_t, uint16_t>(65535)), 65535);
  EXPECT_EQ((RoundTrip<uint8_t, int>(255)), 255);
  EXPECT_EQ((RoundTrip<int8_t, char>('A')), 'A');
  EXPECT_EQ((RoundTrip<uint32_t, std::size_t>(4294967295u)), 4294967295u);
  EXPECT_EQ((RoundTrip<double, float>(1.5f)), 1.5f);
  EXPECT_EQ((RoundTrip<float, double>(0.25)), 0.25);
  // The largest values that fit, read into a narrower type.
  EXPECT_EQ((Convert<int64_t, int32_t>(int64_t{std::numeric_limits<int32_t>::max()})),
            std::numeric_limits<int32_t>::max());
  EXPECT_EQ((Convert<int64_t, int32_t>(int64_t{std::numeric_limits<int32_t>::min()})),
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ((Convert<uint64_t, int64_t>(uint64_t{std::numeric_limits<int64_t>::max()})),
            std::numeric_limits<int64_t>::max());
}

TEST(Codec, NumbersThatDoNotFitAreRefusedWhenBuilt) {
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "300 does not fit in a signed 8-bit integer",
                      CodecError([] { RoundTrip<int8_t, int>(300); }));
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "-1 does not fit in an unsigned 32-bit integer",
                      CodecError([] { RoundTrip<uint32_t, int>(-1); }));
  CodecError([] { RoundTrip<int64_t, uint64_t>(std::numeric_limits<uint64_t>::max()); });
  CodecError([] { RoundTrip<uint32_t, uint64_t>(uint64_t{1} << 32); });
  CodecError([] { RoundTrip<int16_t, int32_t>(std::numeric_limits<int16_t>::min() - 1); });
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "does not fit in a 32-bit float",
                      CodecError([] { RoundTrip<float, double>(1e300); }));
  CodecError([] { RoundTrip<float, double>(-1e39); });
}

TEST(Codec, NumbersThatDoNotFitAreRefusedWhenRead) {
  // What a peer with a wider C++ type may legitimately send, and a hostile one anyway.
  CodecError([] { Convert<int64_t, int32_t>(int64_t{std::numeric_limits<int32_t>::max()} + 1); });
  CodecError([] { Convert<int64_t, int32_t>(int64_t{1} << 40); });
  CodecError([] { Convert<int64_t, uint64_t>(int64_t{-5}); });
  CodecError([] { Convert<uint64_t, int64_t>(std::numeric_limits<uint64_t>::max()); });
  CodecError([] { Convert<int32_t, std::size_t>(-1); });
  CodecError([] { Convert<uint16_t, uint8_t>(uint16_t{256}); });
  CodecError([] { Convert<double, float>(1e300); });
  // Infinities and NaN are values of every floating-point type, not out of range.
  EXPECT_EQ((Convert<double, float>(std::numeric_limits<double>::infinity())),
            std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(Convert<double, float>(std::numeric_limits<double>::quiet_NaN())));
}

// ---------------------------------------------------------------------------------------------
// Enums.

enum class Color { kRed, kGreen, kBlue };
enum LegacyColor : int { kLegacyRed, kLegacyGreen, kLegacyBlue };
enum class Level : int64_t {
  kLowest = std::numeric_limits<int64_t>::min(),
  kLow = -5,
  kHigh = 1 << 20
};

TEST(Codec, EnumsAsSchemaEnums) {
  for (Color color : {Color::kRed, Color::kGreen, Color::kBlue}) {
    EXPECT_EQ((RoundTrip<codec_test::Color>(color)), color);
  }
  EXPECT_EQ((RoundTrip<codec_test::Color>(kLegacyBlue)), kLegacyBlue);
  EXPECT_EQ((Convert<codec_test::Color, Color>(kLegacyGreen)), Color::kGreen);
  // A value this side has no enumerator for (a newer peer's schema) passes through.
  EXPECT_EQ((Convert<codec_test::Color, Color>(static_cast<codec_test::Color>(1000))),
            static_cast<Color>(1000));
  // Schema enums are 16 bits wide.
  CodecError([] { RoundTrip<codec_test::Color>(Level::kLow); });
  CodecError([] { RoundTrip<codec_test::Color>(Level::kHigh); });
}

TEST(Codec, EnumsAsIntegers) {
  for (Level level : {Level::kLowest, Level::kLow, Level::kHigh}) {
    EXPECT_EQ((RoundTrip<int64_t>(level)), level);
  }
  EXPECT_EQ((RoundTrip<uint8_t>(Color::kBlue)), Color::kBlue);
  EXPECT_EQ((RoundTrip<int32_t>(Level::kLow)), Level::kLow);
  CodecError([] { RoundTrip<int32_t>(Level::kLowest); });
  CodecError([] { RoundTrip<uint32_t>(Level::kLow); });
  enum class Small : uint8_t { kOne = 1 };
  CodecError([] { Convert<uint32_t, Small>(uint32_t{256}); });
}

// ---------------------------------------------------------------------------------------------
// Durations.

TEST(Codec, DurationsTravelAsTheCountOfTheirUnit) {
  using namespace std::chrono_literals;
  EXPECT_EQ((RoundTrip<int64_t>(90s)), 90s);
  EXPECT_EQ((RoundTrip<int64_t>(-5us)), -5us);
  EXPECT_EQ((RoundTrip<int64_t>(0ms)), 0ms);
  EXPECT_EQ((RoundTrip<int64_t>(std::chrono::nanoseconds::max())), std::chrono::nanoseconds::max());
  EXPECT_EQ((RoundTrip<int64_t>(std::chrono::nanoseconds::min())), std::chrono::nanoseconds::min());
  EXPECT_EQ((RoundTrip<uint32_t>(std::chrono::milliseconds(4294967295))),
            std::chrono::milliseconds(4294967295));
  EXPECT_EQ((Convert<int64_t, int64_t>(1500ms)), 1500);  // milliseconds count, not seconds
  EXPECT_EQ((RoundTrip<double>(std::chrono::duration<double>(0.5))),
            std::chrono::duration<double>(0.5));
}

TEST(Codec, DurationsOutOfRangeAreRefused) {
  using namespace std::chrono_literals;
  CodecError([] { RoundTrip<uint32_t>(-1ms); });
  CodecError([] { RoundTrip<int32_t>(std::chrono::nanoseconds::max()); });
  CodecError([] { Convert<uint64_t, std::chrono::seconds>(std::numeric_limits<uint64_t>::max()); });
  CodecError([] { Convert<int64_t, std::chrono::duration<int16_t>>(int64_t{40000}); });
}

// ---------------------------------------------------------------------------------------------
// Text and Data.

TEST(Codec, TextEmptyUnicodeAndLong) {
  const std::vector<std::string> texts = {
      "",
      "plain ASCII",
      "żółć gęślą jaźń",
      "日本語のテキスト",
      "العربية من اليمين",
      "emoji 🚀👩‍👩‍👧 and combining e\u0301",
      std::string(1 << 20, 'x'),
  };
  for (const std::string& text : texts) EXPECT_EQ((RoundTrip<capnp::Text>(text)), text);
}

TEST(Codec, TextBytesTravelUnchanged) {
  // Invalid UTF-8 and an embedded NUL are neither checked nor repaired.
  std::string bytes("a\0b\xff\xfe", 5);
  EXPECT_EQ((RoundTrip<capnp::Text>(bytes)), bytes);
}

TEST(Codec, TextBuiltFromStringView) {
  std::string_view view = "a view ✓";
  EXPECT_EQ((Convert<capnp::Text, std::string>(view)), "a view ✓");
  EXPECT_EQ((Convert<capnp::Text, std::string>(std::string_view())), "");
}

TEST(Codec, DataAsByteBuffers) {
  std::vector<uint8_t> every_byte(256);
  for (std::size_t i = 0; i < every_byte.size(); ++i) every_byte[i] = static_cast<uint8_t>(i);
  EXPECT_EQ((RoundTrip<capnp::Data>(every_byte)), every_byte);
  EXPECT_EQ((RoundTrip<capnp::Data>(std::vector<uint8_t>())), std::vector<uint8_t>());
  std::vector<std::byte> bytes = {std::byte{7}, std::byte{0}, std::byte{200}};
  EXPECT_EQ((RoundTrip<capnp::Data>(bytes)), bytes);
  std::vector<char> chars = {'\0', 'z', '\x80'};
  EXPECT_EQ((RoundTrip<capnp::Data>(chars)), chars);
  std::string binary("a\0b\xff", 4);
  EXPECT_EQ((RoundTrip<capnp::Data>(binary)), binary);
  EXPECT_EQ((RoundTrip<capnp::Data>(std::string())), std::string());
  std::vector<uint8_t> big(3 << 20, 0xab);
  EXPECT_EQ((RoundTrip<capnp::Data>(big)), big);
  // The same bytes, read as another buffer type.
  EXPECT_EQ((Convert<capnp::Data, std::string>(std::vector<uint8_t>{'h', 'i'})), "hi");
}

TEST(Codec, DataAsFixedSizeArrays) {
  std::array<uint8_t, 4> fixed = {9, 8, 7, 0};
  EXPECT_EQ((RoundTrip<capnp::Data>(fixed)), fixed);
  std::array<std::byte, 2> bytes = {std::byte{1}, std::byte{255}};
  EXPECT_EQ((RoundTrip<capnp::Data>(bytes)), bytes);
  EXPECT_EQ((RoundTrip<capnp::Data>(std::array<uint8_t, 0>())), (std::array<uint8_t, 0>()));
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "expected 4 bytes, got 3", CodecError([] {
                        Convert<capnp::Data, std::array<uint8_t, 4>>(std::vector<uint8_t>{1, 2, 3});
                      }));
  CodecError([] { Convert<capnp::Data, std::array<uint8_t, 4>>(std::vector<uint8_t>(5)); });
  CodecError([] { Convert<capnp::Data, std::array<uint8_t, 4>>(std::vector<uint8_t>()); });
}

// ---------------------------------------------------------------------------------------------
// Lists and sets.

TEST(Codec, ListsOfNumbersEnumsAndBlobs) {
  EXPECT_EQ((RoundTrip<capnp::List<int32_t>>(std::vector<int32_t>())), std::vector<int32_t>());
  std::vector<int64_t> ints = {std::numeric_limits<int64_t>::min(), 0, 42,
                               std::numeric_limits<int64_t>::max()};
  EXPECT_EQ((RoundTrip<capnp::List<int64_t>>(ints)), ints);
  std::vector<bool> bools = {true, false, true, true, false, false, false, false, true};
  EXPECT_EQ((RoundTrip<capnp::List<bool>>(bools)), bools);
  std::vector<Color> colors = {Color::kGreen, Color::kRed, Color::kBlue};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Color>>(colors)), colors);
  std::vector<std::string> texts = {"", "two", "ünïcödé", "🚀"};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Text>>(texts)), texts);
  std::vector<std::vector<uint8_t>> datas = {{}, {1, 2}, {0}};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Data>>(datas)), datas);
  std::list<double> doubles = {1.5, -2.25};
  EXPECT_EQ((RoundTrip<capnp::List<double>>(doubles)), doubles);
  std::vector<std::chrono::seconds> durations = {std::chrono::seconds(1), std::chrono::seconds(-1)};
  EXPECT_EQ((RoundTrip<capnp::List<int64_t>>(durations)), durations);
  std::vector<int> small = {1, -1};
  EXPECT_EQ((RoundTrip<capnp::List<int16_t>>(small)), small);
}

TEST(Codec, ListsOfLists) {
  std::vector<std::vector<int64_t>> nested = {{1, 2}, {}, {3}};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::List<int64_t>>>(nested)), nested);
  std::vector<std::vector<std::string>> words = {{"a", "b"}, {}, {"ç"}};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::List<capnp::Text>>>(words)), words);
  std::vector<std::vector<std::vector<bool>>> deep = {{{true}, {}}, {}};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::List<capnp::List<bool>>>>(deep)), deep);
}

TEST(Codec, ListElementsAreCheckedLikeFields) {
  CodecError([] { RoundTrip<capnp::List<int8_t>>(std::vector<int>{1, 1000}); });
  CodecError([] {
    Convert<capnp::List<int64_t>, std::vector<int32_t>>(std::vector<int64_t>{0, int64_t{1} << 40});
  });
  CodecError([] {
    Convert<capnp::List<capnp::Data>, std::vector<std::array<uint8_t, 2>>>(
        std::vector<std::vector<uint8_t>>{{1, 2}, {3}});
  });
}

TEST(Codec, Sets) {
  std::set<std::string> set = {"", "a", "b", "ç"};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Text>>(set)), set);
  std::unordered_set<uint64_t> unordered = {1, 2, std::numeric_limits<uint64_t>::max()};
  EXPECT_EQ((RoundTrip<capnp::List<uint64_t>>(unordered)), unordered);
  EXPECT_EQ((RoundTrip<capnp::List<int32_t>>(std::set<int32_t>())), std::set<int32_t>());
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "duplicate element", CodecError([] {
                        Convert<capnp::List<capnp::Text>, std::set<std::string>>(
                            std::vector<std::string>{"a", "a"});
                      }));
  CodecError([] {
    Convert<capnp::List<int32_t>, std::unordered_set<int32_t>>(std::vector<int32_t>{7, 8, 7});
  });
}

TEST(Codec, ListTooLongForAMessageIsRefused) {
  // 2^29 elements: one more than a Cap'n Proto list can count (64 MiB as std::vector<bool>).
  std::vector<bool> too_long(std::size_t{1} << 29);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "list too long",
                      CodecError([&] { RoundTrip<capnp::List<bool>>(too_long); }));
}

// ---------------------------------------------------------------------------------------------
// Structs: pairs, tuples, hand-written struct codecs, maps.

TEST(Codec, PairsAndTuplesAsStructs) {
  std::pair<std::string, int64_t> pair{"key ✓", std::numeric_limits<int64_t>::min()};
  EXPECT_EQ((RoundTrip<codec_test::Pair>(pair)), pair);
  EXPECT_EQ((RoundTrip<codec_test::Pair>(std::pair<std::string, int64_t>())),
            (std::pair<std::string, int64_t>()));
  std::tuple<int32_t, std::string, double> triple{-3, "three", 3.5};
  EXPECT_EQ((RoundTrip<codec_test::Triple>(triple)), triple);
  // Element types convert like fields: std::size_t on Int64, float on Float64.
  std::tuple<int16_t, std::string, float> narrow{7, "", 0.5f};
  EXPECT_EQ((RoundTrip<codec_test::Triple>(narrow)), narrow);
  std::vector<std::tuple<int32_t, std::string, double>> triples = {triple, {0, "", 0.0}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Triple>>(triples)), triples);
  std::pair<std::string, std::vector<GeoPoint>> labeled{"path", {{0, 0}, {1.5, -2}}};
  EXPECT_EQ((RoundTrip<codec_test::Labeled>(labeled)), labeled);
  CodecError([] {
    Convert<codec_test::Triple, std::tuple<int8_t, std::string, double>>(
        std::tuple<int32_t, std::string, double>{128, "", 0});
  });
}

TEST(Codec, NestedStructsThroughTheirOwnCodecs) {
  Shape leaf{"leaf", {1, 2}, {}, {}, {}};
  Shape shape{"outer ✓", {-1, 0.5}, {{0, 0}, {0, 1}, {1, 1}}, {"b", "a"}, {leaf, Shape{}}};
  Shape tree{"root", {}, {}, {"root"}, {shape, leaf}};
  EXPECT_EQ((RoundTrip<codec_test::Shape>(tree)), tree);
  EXPECT_EQ((RoundTrip<codec_test::Shape>(Shape())), Shape());
  std::vector<Shape> shapes = {shape, leaf};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Shape>>(shapes)), shapes);
}

TEST(Codec, Maps) {
  std::map<std::string, int64_t> map = {{"", 0}, {"one", 1}, {"minus", -1}, {"日本", 42}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Pair>>(map)), map);
  std::unordered_map<std::string, int64_t> unordered = {{"x", 10},
                                                        {"y", std::numeric_limits<int64_t>::max()}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Pair>>(unordered)), unordered);
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Pair>>(std::map<std::string, int64_t>())),
            (std::map<std::string, int64_t>()));
  std::map<std::string, GeoPoint> points = {{"origin", {0, 0}}, {"corner", {3, -4}}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::NamedPoint>>(points)), points);
  // A map is a list of pairs on the wire: it reads back as a vector of pairs too, in key order.
  using Entries = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ((Convert<capnp::List<codec_test::Pair>, Entries>(map)),
            Entries(map.begin(), map.end()));
}

TEST(Codec, MapWithARepeatedKeyIsRefused) {
  std::vector<std::pair<std::string, int64_t>> repeated = {{"k", 1}, {"other", 0}, {"k", 2}};
  EXPECT_PRED_FORMAT2(
      testing::IsSubstring, "duplicate key", CodecError([&] {
        Convert<capnp::List<codec_test::Pair>, std::map<std::string, int64_t>>(repeated);
      }));
  CodecError([&] {
    Convert<capnp::List<codec_test::Pair>, std::unordered_map<std::string, int64_t>>(repeated);
  });
}

// ---------------------------------------------------------------------------------------------
// User types.

TEST(Codec, UserTypesThroughTheCustomizationPoint) {
  Uint256 hash(0x5a);
  EXPECT_EQ((RoundTrip<capnp::Data>(hash)), hash);
  Transaction tx(
      2,
      {{50, "alice ✓"}, {0, ""}, {std::numeric_limits<uint64_t>::max(), std::string(1000, 's')}});
  EXPECT_EQ((RoundTrip<capnp::Data>(tx)), tx);
  EXPECT_EQ((RoundTrip<capnp::Data>(Transaction())), Transaction());
}

TEST(Codec, UserNumberTypes) {
  EXPECT_EQ((RoundTrip<int64_t>(Amount{0})), Amount{0});
  EXPECT_EQ((RoundTrip<int64_t>(Amount{std::numeric_limits<int64_t>::max()})),
            Amount{std::numeric_limits<int64_t>::max()});
  std::vector<Amount> amounts = {{1}, {250}};
  EXPECT_EQ((RoundTrip<capnp::List<int64_t>>(amounts)), amounts);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "negative amount",
                      CodecError([] { Convert<int64_t, Amount>(int64_t{-1}); }));
}

TEST(Codec, UserTypesComposeWithContainers) {
  std::vector<Uint256> hashes = {Uint256(1), Uint256(2), Uint256(0xff)};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Data>>(hashes)), hashes);
  std::map<Uint256, Transaction> ledger = {{Uint256(1), Transaction(1, {{5, "a"}})},
                                           {Uint256(2), Transaction()}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::TxEntry>>(ledger)), ledger);
}

TEST(Codec, UserTypesRefuseMalformedBytes) {
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "expected 32 bytes, got 31",
                      CodecError([] { Convert<capnp::Data, Uint256>(std::vector<uint8_t>(31)); }));
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "bad transaction: transaction truncated",
                      CodecError([] {
                        Convert<capnp::Data, Transaction>(std::vector<uint8_t>{1, 2});
                      }));
  std::vector<uint8_t> trailing = Transaction(1, {}).Serialize();
  trailing.push_back(0);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "trailing bytes",
                      CodecError([&] { Convert<capnp::Data, Transaction>(trailing); }));
  // An output count of 2^32 - 1 with no outputs behind it: refused, nothing allocated for it.
  std::vector<uint8_t> huge_count = {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  CodecError([&] { Convert<capnp::Data, Transaction>(huge_count); });
}

// ---------------------------------------------------------------------------------------------
// Interfaces.

// Cap'n Proto's Server classes have no virtual destructor: kj::heap's kj::Own deletes through the
// type it was created with. GCC with optimization and sanitizers also misreads getResults()'s
// defaulted kj::Maybe<MessageSize> argument as maybe uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// NOLINTNEXTLINE(cppcoreguidelines-virtual-class-destructor)
class HandleServer final : public codec_test::Handle::Server {
 public:
  explicit HandleServer(uint32_t id) : m_id(id) {}

 protected:
  kj::Promise<void> id(IdContext context) override {
    context.getResults().setId(m_id);
    return kj::READY_NOW;
  }

 private:
  uint32_t m_id;
};
#pragma GCC diagnostic pop

TEST(Codec, ListsOfCapabilities) {
  kj::EventLoop loop;
  kj::WaitScope wait_scope(loop);
  std::vector<codec_test::Handle::Client> handles;
  for (uint32_t id : {7u, 8u, 9u}) handles.emplace_back(kj::heap<HandleServer>(id));

  // A message that can carry capabilities needs a capability table on both sides.
  capnp::MallocMessageBuilder builder;
  capnp::BuilderCapabilityTable built_caps;
  auto root = built_caps.imbue(builder.initRoot<codec_test::Handles>());
  TestEncoder encoder(capnp::Orphanage::getForMessageContaining(root));
  root.adoptHandles(crossproc::Build<capnp::List<codec_test::Handle>>(encoder, handles));

  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  auto caps =
      kj::heapArrayBuilder<kj::Maybe<kj::Own<capnp::ClientHook>>>(built_caps.getTable().size());
  for (auto& cap : built_caps.getTable()) {
    KJ_IF_MAYBE (hook, cap) {
      caps.add((*hook)->addRef());
    } else {
      caps.add(nullptr);
    }
  }
  capnp::ReaderCapabilityTable read_caps(caps.finish());
  capnp::FlatArrayMessageReader reader(words);
  TestDecoder decoder;
  auto received =
      crossproc::Read<capnp::List<codec_test::Handle>, std::vector<codec_test::Handle::Client>>(
          decoder, read_caps.imbue(reader.getRoot<codec_test::Handles>()).getHandles());

  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0].idRequest().send().wait(wait_scope).getId(), 7u);
  EXPECT_EQ(received[2].idRequest().send().wait(wait_scope).getId(), 9u);
}

// ---------------------------------------------------------------------------------------------
// Damaged messages.

TEST(Codec, WrongPointerKindIsRefusedByCapnProto) {
  // Cap'n Proto checks structure itself and throws kj::Exception (the runtime reports it as
  // kFailed); the codecs never see the bad pointer.
  capnp::MallocMessageBuilder builder;
  builder.getRoot<capnp::AnyPointer>().initAs<capnp::List<int64_t>>(3);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  capnp::FlatArrayMessageReader reader(words);
  TestDecoder decoder;
  EXPECT_THROW((crossproc::Read<capnp::List<capnp::Text>, std::vector<std::string>>(
                   decoder, reader.getRoot<capnp::List<capnp::Text>>())),
               kj::Exception);
}

// Builds `value` as Wire, then damages copies of the message with random byte changes and reads
// each one back as a T. Every read must either succeed or throw RemoteError or kj::Exception
// (Cap'n Proto's own structural checks); under the sanitizers this also shows that no read goes
// out of bounds. Returns how many reads failed.
template <typename Wire, typename T>
int ReadDamagedCopies(const T& value, int rounds) {
  capnp::MallocMessageBuilder builder;
  TestEncoder encoder(builder.getOrphanage());
  builder.getRoot<capnp::AnyPointer>().adopt(crossproc::Build<Wire>(encoder, value));
  kj::Array<capnp::word> original = capnp::messageToFlatArray(builder);
  std::size_t size = original.asBytes().size();

  std::mt19937 random(20240611);
  int failures = 0;
  for (int round = 0; round < rounds; ++round) {
    kj::Array<capnp::word> damaged = kj::heapArray<capnp::word>(original.size());
    auto bytes = damaged.asBytes();
    std::memcpy(bytes.begin(), original.begin(), size);
    for (int change = 0; change <= round % 4; ++change) {
      bytes[random() % size] = static_cast<kj::byte>(random());
    }
    try {
      capnp::FlatArrayMessageReader reader(damaged);
      TestDecoder decoder;
      (void)crossproc::Read<Wire, T>(decoder, reader.getRoot<capnp::AnyPointer>().getAs<Wire>());
    } catch (const RemoteError&) {
      ++failures;
    } catch (const kj::Exception&) {
      ++failures;
    }
  }
  return failures;
}

TEST(Codec, DamagedMessagesFailCleanly) {
  Shape leaf{"leaf ✓", {1, 2}, {{3, 4}}, {"x", "y"}, {}};
  Shape shape{"shape", {-1, 0.5}, {{0, 0}, {0, 1}}, {"tag"}, {leaf, leaf}};
  EXPECT_GT((ReadDamagedCopies<codec_test::Shape>(shape, 2000)), 0);
  std::map<std::string, int64_t> map = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
  EXPECT_GT((ReadDamagedCopies<capnp::List<codec_test::Pair>>(map, 1000)), 0);
  std::vector<std::vector<std::string>> words = {{"one", "two"}, {}, {"three"}};
  EXPECT_GT((ReadDamagedCopies<capnp::List<capnp::List<capnp::Text>>>(words, 1000)), 0);
  std::map<Uint256, Transaction> ledger = {{Uint256(1), Transaction(1, {{5, "a"}})}};
  EXPECT_GT((ReadDamagedCopies<capnp::List<codec_test::TxEntry>>(ledger, 1000)), 0);
}

}  // namespace
