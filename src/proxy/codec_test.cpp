// Round trips of every mapped C++ type through real Cap'n Proto messages: built with Codec::Build,
// serialized to words, read back with Codec::Read. Includes empty, extreme and unicode values,
// hostile input, and a user type plugged in through the customization point.
#include <crossproc/types.h>

#include "codec_test.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

// Positional field access, as crossproc-gen emits it for schema structs.
template <>
struct crossproc::StructFields<codec_test::Pair> {
  static constexpr std::size_t kCount = 2;
  template <std::size_t I>
  using FieldWire = std::tuple_element_t<I, std::tuple<capnp::Text, int64_t>>;
  template <std::size_t I>
  static auto Get(codec_test::Pair::Reader reader) {
    if constexpr (I == 0) return reader.getKey();
    else return reader.getValue();
  }
  template <std::size_t I, typename T>
  static void Set(Encoder& encoder, codec_test::Pair::Builder builder, T&& value) {
    if constexpr (I == 0) builder.adoptKey(crossproc::Build<capnp::Text>(encoder, std::forward<T>(value)));
    else builder.setValue(crossproc::Build<int64_t>(encoder, std::forward<T>(value)));
  }
};

template <>
struct crossproc::StructFields<codec_test::Triple> {
  static constexpr std::size_t kCount = 3;
  template <std::size_t I>
  using FieldWire = std::tuple_element_t<I, std::tuple<int32_t, capnp::Text, double>>;
  template <std::size_t I>
  static auto Get(codec_test::Triple::Reader reader) {
    if constexpr (I == 0) return reader.getA();
    else if constexpr (I == 1) return reader.getB();
    else return reader.getC();
  }
  template <std::size_t I, typename T>
  static void Set(Encoder& encoder, codec_test::Triple::Builder builder, T&& value) {
    if constexpr (I == 0) builder.setA(crossproc::Build<int32_t>(encoder, std::forward<T>(value)));
    else if constexpr (I == 1) builder.adoptB(crossproc::Build<capnp::Text>(encoder, std::forward<T>(value)));
    else builder.setC(crossproc::Build<double>(encoder, std::forward<T>(value)));
  }
};

namespace {

// A 256-bit number carried as 32 bytes of Data: the customization point at work.
class Uint256 {
 public:
  Uint256() = default;
  explicit Uint256(uint8_t fill) { m_bytes.fill(fill); }
  const std::array<uint8_t, 32>& bytes() const { return m_bytes; }
  std::array<uint8_t, 32>& bytes() { return m_bytes; }
  bool operator==(const Uint256&) const = default;

 private:
  std::array<uint8_t, 32> m_bytes{};
};

// A class with its own serializer, carried as the bytes it writes.
struct Transaction {
  uint32_t version = 0;
  std::vector<std::string> outputs;
  bool operator==(const Transaction&) const = default;

  std::vector<uint8_t> Serialize() const {
    std::vector<uint8_t> out(4);
    std::memcpy(out.data(), &version, 4);
    for (const auto& output : outputs) {
      out.push_back(static_cast<uint8_t>(output.size()));
      out.insert(out.end(), output.begin(), output.end());
    }
    return out;
  }
  static Transaction Deserialize(const uint8_t* data, std::size_t size) {
    if (size < 4) throw std::invalid_argument("transaction too short");
    Transaction tx;
    std::memcpy(&tx.version, data, 4);
    for (std::size_t at = 4; at < size;) {
      std::size_t length = data[at++];
      if (at + length > size) throw std::invalid_argument("truncated output");
      tx.outputs.emplace_back(reinterpret_cast<const char*>(data + at), length);
      at += length;
    }
    return tx;
  }
};

}  // namespace

template <>
struct crossproc::Codec<capnp::Data, Uint256> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const Uint256& value) {
    return crossproc::Build<capnp::Data>(encoder, value.bytes());
  }
  static Uint256 Read(Decoder& decoder, capnp::Data::Reader reader) {
    Uint256 value;
    value.bytes() = crossproc::Read<capnp::Data, std::array<uint8_t, 32>>(decoder, reader);
    return value;
  }
};

template <>
struct crossproc::Codec<capnp::Data, Transaction> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const Transaction& tx) {
    return crossproc::Build<capnp::Data>(encoder, tx.Serialize());
  }
  static Transaction Read(Decoder&, capnp::Data::Reader reader) {
    try {
      return Transaction::Deserialize(reader.begin(), reader.size());
    } catch (const std::exception& e) {
      throw crossproc::RemoteError(crossproc::ErrorKind::kFailed, "", e.what());
    }
  }
};

namespace {

class TestEncoder final : public crossproc::Encoder {
 public:
  explicit TestEncoder(capnp::Orphanage orphanage) : Encoder(orphanage) {}
  capnp::Capability::Client ExportServer(std::shared_ptr<crossproc::ServerBase>) override {
    throw std::logic_error("no capabilities in these tests");
  }
  capnp::Capability::Client ExportRef(const std::shared_ptr<crossproc::detail::CapRef>&) override {
    throw std::logic_error("no capabilities in these tests");
  }
};

class TestDecoder final : public crossproc::Decoder {
 public:
  std::shared_ptr<crossproc::detail::CapRef> Import(capnp::Capability::Client) override { return nullptr; }
};

// Builds `value` as the root of a message of wire type Wire (a pointer type), serializes it,
// and reads it back as a T.
template <typename Wire, typename T, typename Value>
T RoundTrip(const Value& value) {
  capnp::MallocMessageBuilder builder;
  TestEncoder encoder(builder.getOrphanage());
  builder.getRoot<capnp::AnyPointer>().adopt(crossproc::Build<Wire>(encoder, value));
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  capnp::FlatArrayMessageReader reader(words);
  TestDecoder decoder;
  return crossproc::Read<Wire, T>(decoder, reader.getRoot<capnp::AnyPointer>().getAs<Wire>());
}

template <typename Wire, typename T>
T RoundTrip(const T& value) {
  return RoundTrip<Wire, T, T>(value);
}

// Numbers travel in struct fields; this writes one with Build and reads it with Read.
template <typename T, typename Set, typename Get>
T NumberRoundTrip(const T& value, Set set, Get get) {
  capnp::MallocMessageBuilder builder;
  TestEncoder encoder(builder.getOrphanage());
  set(encoder, builder.initRoot<codec_test::Numbers>());
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  capnp::FlatArrayMessageReader reader(words);
  TestDecoder decoder;
  (void)value;
  return get(decoder, reader.getRoot<codec_test::Numbers>());
}

#define ROUND_TRIP_NUMBER(Field, Wire, T, value)                                                             \
  EXPECT_EQ((NumberRoundTrip<T>(                                                                             \
                value,                                                                                       \
                [&](crossproc::Encoder& e, codec_test::Numbers::Builder b) {                                 \
                  b.set##Field(crossproc::Build<Wire>(e, static_cast<T>(value)));                            \
                },                                                                                           \
                [&](crossproc::Decoder& d, codec_test::Numbers::Reader r) {                                  \
                  return crossproc::Read<Wire, T>(d, r.get##Field());                                        \
                })),                                                                                         \
            static_cast<T>(value))

TEST(Codec, NumbersAndBoolAtTheirLimits) {
  for (bool flag : {false, true}) ROUND_TRIP_NUMBER(B, bool, bool, flag);
  ROUND_TRIP_NUMBER(I8, int8_t, int8_t, std::numeric_limits<int8_t>::min());
  ROUND_TRIP_NUMBER(I8, int8_t, int8_t, std::numeric_limits<int8_t>::max());
  ROUND_TRIP_NUMBER(I16, int16_t, int16_t, std::numeric_limits<int16_t>::min());
  ROUND_TRIP_NUMBER(I32, int32_t, int32_t, std::numeric_limits<int32_t>::min());
  ROUND_TRIP_NUMBER(I32, int32_t, int32_t, 0);
  ROUND_TRIP_NUMBER(I64, int64_t, int64_t, std::numeric_limits<int64_t>::min());
  ROUND_TRIP_NUMBER(I64, int64_t, int64_t, std::numeric_limits<int64_t>::max());
  ROUND_TRIP_NUMBER(U8, uint8_t, uint8_t, 255);
  ROUND_TRIP_NUMBER(U16, uint16_t, uint16_t, 65535);
  ROUND_TRIP_NUMBER(U32, uint32_t, uint32_t, std::numeric_limits<uint32_t>::max());
  ROUND_TRIP_NUMBER(U64, uint64_t, uint64_t, std::numeric_limits<uint64_t>::max());
  ROUND_TRIP_NUMBER(F32, float, float, std::numeric_limits<float>::lowest());
  ROUND_TRIP_NUMBER(F64, double, double, std::numeric_limits<double>::max());
  ROUND_TRIP_NUMBER(F64, double, double, -0.5);
  // C++ types of another width than the schema's.
  ROUND_TRIP_NUMBER(I64, int64_t, int, -12345);
  ROUND_TRIP_NUMBER(U64, uint64_t, std::size_t, std::size_t{1} << 40);
}

TEST(Codec, NarrowingIsCheckedBothWays) {
  capnp::MallocMessageBuilder builder;
  TestEncoder encoder(builder.getOrphanage());
  TestDecoder decoder;
  EXPECT_THROW((crossproc::Build<int8_t>(encoder, 300)), crossproc::RemoteError);
  EXPECT_THROW((crossproc::Build<uint32_t>(encoder, -1)), crossproc::RemoteError);
  EXPECT_THROW((crossproc::Read<int64_t, int32_t>(decoder, int64_t{1} << 40)), crossproc::RemoteError);
  EXPECT_THROW((crossproc::Read<int64_t, uint64_t>(decoder, -5)), crossproc::RemoteError);
  EXPECT_EQ((crossproc::Read<uint64_t, int32_t>(decoder, 7)), 7);
}

enum class Color { kRed, kGreen, kBlue };

TEST(Codec, EnumsAsSchemaEnumsAndIntegers) {
  for (Color color : {Color::kRed, Color::kBlue}) {
    EXPECT_EQ((NumberRoundTrip<Color>(
                  color,
                  [&](crossproc::Encoder& e, codec_test::Numbers::Builder b) {
                    b.setColor(crossproc::Build<codec_test::Color>(e, color));
                  },
                  [&](crossproc::Decoder& d, codec_test::Numbers::Reader r) {
                    return crossproc::Read<codec_test::Color, Color>(d, r.getColor());
                  })),
              color);
    ROUND_TRIP_NUMBER(U16, uint16_t, Color, color);
  }
}

TEST(Codec, DurationsInTheirOwnUnit) {
  using namespace std::chrono_literals;
  ROUND_TRIP_NUMBER(I64, int64_t, std::chrono::seconds, 90s);
  ROUND_TRIP_NUMBER(I64, int64_t, std::chrono::microseconds, -5us);
  ROUND_TRIP_NUMBER(I64, int64_t, std::chrono::nanoseconds, std::chrono::nanoseconds::max());
  ROUND_TRIP_NUMBER(U32, uint32_t, std::chrono::milliseconds, 0ms);
}

TEST(Codec, TextEmptyLongAndUnicode) {
  for (std::string text : {std::string(), std::string("plain"), std::string("żółć ✓ 日本語 🚀"), std::string(100000, 'x')}) {
    EXPECT_EQ((RoundTrip<capnp::Text>(text)), text);
  }
  EXPECT_EQ((RoundTrip<capnp::Text, std::string>(std::string_view("view"))), "view");
}

TEST(Codec, DataAsByteBuffers) {
  std::vector<uint8_t> bytes = {0, 1, 2, 255, 0};
  EXPECT_EQ((RoundTrip<capnp::Data>(bytes)), bytes);
  EXPECT_EQ((RoundTrip<capnp::Data>(std::vector<uint8_t>())), std::vector<uint8_t>());
  std::vector<std::byte> as_bytes = {std::byte{7}, std::byte{0}, std::byte{200}};
  EXPECT_EQ((RoundTrip<capnp::Data>(as_bytes)), as_bytes);
  std::string binary("a\0b\xff", 4);
  EXPECT_EQ((RoundTrip<capnp::Data>(binary)), binary);
  std::array<uint8_t, 4> fixed = {9, 8, 7, 6};
  EXPECT_EQ((RoundTrip<capnp::Data>(fixed)), fixed);
  std::vector<uint8_t> big(3 << 20, 0xab);
  EXPECT_EQ((RoundTrip<capnp::Data>(big)), big);
}

TEST(Codec, FixedSizeDataRejectsOtherSizes) {
  EXPECT_THROW((RoundTrip<capnp::Data, std::array<uint8_t, 4>>(std::vector<uint8_t>{1, 2, 3})), crossproc::RemoteError);
}

TEST(Codec, ListsOfEveryKind) {
  EXPECT_EQ((RoundTrip<capnp::List<int32_t>>(std::vector<int32_t>{})), std::vector<int32_t>{});
  std::vector<int32_t> ints = {std::numeric_limits<int32_t>::min(), 0, 42, std::numeric_limits<int32_t>::max()};
  EXPECT_EQ((RoundTrip<capnp::List<int32_t>>(ints)), ints);
  std::vector<bool> bools = {true, false, true, true};
  EXPECT_EQ((RoundTrip<capnp::List<bool>>(bools)), bools);
  std::vector<std::string> texts = {"", "two", "ünïcödé"};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Text>>(texts)), texts);
  std::vector<std::vector<uint8_t>> datas = {{}, {1, 2}, {3}};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Data>>(datas)), datas);
  std::vector<std::vector<int64_t>> nested = {{1, 2}, {}, {3}};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::List<int64_t>>>(nested)), nested);
  std::vector<Color> colors = {Color::kGreen, Color::kRed};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Color>>(colors)), colors);
  std::list<double> doubles = {1.5, -2.25};
  EXPECT_EQ((RoundTrip<capnp::List<double>>(doubles)), doubles);
}

TEST(Codec, SetsAndMaps) {
  std::set<std::string> set = {"a", "b", "ç"};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Text>>(set)), set);
  std::unordered_set<uint64_t> unordered = {1, 2, std::numeric_limits<uint64_t>::max()};
  EXPECT_EQ((RoundTrip<capnp::List<uint64_t>>(unordered)), unordered);
  std::map<std::string, int64_t> map = {{"", 0}, {"one", 1}, {"minus", -1}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Pair>>(map)), map);
  std::unordered_map<std::string, int64_t> unordered_map = {{"x", 10}, {"y", 20}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Pair>>(unordered_map)), unordered_map);
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Pair>>(std::map<std::string, int64_t>{})),
            (std::map<std::string, int64_t>{}));
}

TEST(Codec, MapWithDuplicateKeysIsRejected) {
  std::vector<std::pair<std::string, int64_t>> duplicate = {{"k", 1}, {"k", 2}};
  EXPECT_THROW((RoundTrip<capnp::List<codec_test::Pair>, std::map<std::string, int64_t>>(duplicate)),
               crossproc::RemoteError);
}

TEST(Codec, PairsAndTuplesAsStructs) {
  std::pair<std::string, int64_t> pair{"key", -7};
  EXPECT_EQ((RoundTrip<codec_test::Pair>(pair)), pair);
  std::tuple<int32_t, std::string, double> triple{3, "three", 3.5};
  EXPECT_EQ((RoundTrip<codec_test::Triple>(triple)), triple);
  std::vector<std::tuple<int32_t, std::string, double>> triples = {triple, {0, "", 0.0}};
  EXPECT_EQ((RoundTrip<capnp::List<codec_test::Triple>>(triples)), triples);
}

TEST(Codec, UserTypesThroughTheCustomizationPoint) {
  Uint256 hash(0x5a);
  EXPECT_EQ((RoundTrip<capnp::Data>(hash)), hash);
  std::vector<Uint256> hashes = {Uint256(1), Uint256(2)};
  EXPECT_EQ((RoundTrip<capnp::List<capnp::Data>>(hashes)), hashes);
  Transaction tx{2, {"alice", "", "bob"}};
  EXPECT_EQ((RoundTrip<capnp::Data>(tx)), tx);
  // A user decoder's own checks reach the caller as RemoteError.
  EXPECT_THROW((RoundTrip<capnp::Data, Transaction>(std::vector<uint8_t>{1, 2})), crossproc::RemoteError);
  EXPECT_THROW((RoundTrip<capnp::Data, Uint256>(std::vector<uint8_t>(31))), crossproc::RemoteError);
}

}  // namespace
