// Every mapped type through generated code and a real connection: generated structs (nested,
// recursive, with optionals, renamed and skipped members), enums, lists of lists, std::map,
// std::set, std::chrono and std::string overrides, schema defaults, empty structs; with empty,
// extreme and unicode values.
#include "types.crossproc.h"

#include <crossproc/connection.h>

#include "transport/socket.h"

#include <gtest/gtest.h>

#include <limits>

namespace {

using namespace golden::types;

class TypeEchoImpl final : public TypeEcho {
 public:
  Primitives primitives(const Primitives& value) override { return value; }
  double scalars(bool flag, int8_t i8, int16_t i16, int32_t i32, int64_t i64, uint8_t u8, uint16_t u16, uint32_t u32,
                 uint64_t u64, float f32, double f64, Color color) override {
    return double(flag) + i8 + i16 + i32 + double(i64) + u8 + u16 + u32 + double(u64) + f32 + f64 +
           static_cast<int>(color);
  }
  std::vector<uint8_t> blobs(const std::string& text, const std::vector<uint8_t>& data) override {
    std::vector<uint8_t> joined(text.begin(), text.end());
    joined.insert(joined.end(), data.begin(), data.end());
    return joined;
  }
  std::vector<Shape> shapes(const std::vector<Shape>& shapes, const std::vector<std::vector<int32_t>>& matrix) override {
    std::vector<Shape> result = shapes;
    for (auto& shape : result) shape.matrix = matrix;
    return result;
  }
  std::optional<Point> optional(const std::optional<std::string>& label) override {
    if (!label) return std::nullopt;
    return Point{static_cast<double>(label->size()), -1};
  }
  std::set<std::string> overrides(const std::map<std::string, int64_t>& counts, const std::chrono::milliseconds& timeout,
                                  const std::string& bytes) override {
    std::set<std::string> keys;
    for (const auto& [key, count] : counts) keys.insert(key + "=" + std::to_string(count));
    keys.insert("timeout=" + std::to_string(timeout.count()));
    keys.insert("bytes=" + std::to_string(bytes.size()));
    return keys;
  }
  Overrides defaults(const Defaults& value, const Empty&) override {
    Overrides result;
    result.counts["count"] = value.count;
    result.names = {value.enabled ? "enabled" : "disabled"};
    result.timeout = std::chrono::seconds(value.offset);
    result.bytes = std::to_string(value.biggest);
    return result;
  }
  Shape_Style style(Shape_Style_Kind& kind) override {
    kind = Shape_Style_Kind::dashed;
    return Shape_Style{Color::blue, 1.5f, Shape_Style_Kind::solid};
  }
  void ping() override {}
};

class GeneratedTypes : public ::testing::Test {
 protected:
  GeneratedTypes() {
    auto [a, b] = crossproc::transport::SocketPair();
    m_server = std::make_unique<crossproc::Connection>(a.release(), std::shared_ptr<TypeEcho>(std::make_shared<TypeEchoImpl>()));
    m_client = std::make_unique<crossproc::Connection>(b.release());
    echo = m_client->Bootstrap<TypeEcho>();
  }
  std::unique_ptr<crossproc::Connection> m_server;
  std::unique_ptr<crossproc::Connection> m_client;

 public:
  std::unique_ptr<TypeEchoClient> echo;
};

TEST_F(GeneratedTypes, PrimitivesAtTheirLimitsAndUnicodeText) {
  Primitives max{true, std::numeric_limits<int8_t>::max(), std::numeric_limits<int16_t>::max(),
                 std::numeric_limits<int32_t>::max(), std::numeric_limits<int64_t>::max(), 255, 65535,
                 std::numeric_limits<uint32_t>::max(), std::numeric_limits<uint64_t>::max(),
                 std::numeric_limits<float>::max(), std::numeric_limits<double>::lowest(),
                 "ünïcødé ✓ 🚀", {0, 255, 0}, Color::blue};
  Primitives got = echo->primitives(max);
  EXPECT_EQ(got.flag, max.flag);
  EXPECT_EQ(got.i8, max.i8);
  EXPECT_EQ(got.i16, max.i16);
  EXPECT_EQ(got.i32, max.i32);
  EXPECT_EQ(got.i64, max.i64);
  EXPECT_EQ(got.u8, max.u8);
  EXPECT_EQ(got.u16, max.u16);
  EXPECT_EQ(got.u32, max.u32);
  EXPECT_EQ(got.u64, max.u64);
  EXPECT_EQ(got.f32, max.f32);
  EXPECT_EQ(got.f64, max.f64);
  EXPECT_EQ(got.text, max.text);
  EXPECT_EQ(got.data, max.data);
  EXPECT_EQ(got.color, max.color);
  Primitives empty{};
  Primitives got_empty = echo->primitives(empty);
  EXPECT_EQ(got_empty.text, "");
  EXPECT_TRUE(got_empty.data.empty());
  EXPECT_EQ(got_empty.i64, 0);
  Primitives min{};
  min.i8 = std::numeric_limits<int8_t>::min();
  min.i64 = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(echo->primitives(min).i64, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(echo->scalars(true, 1, 2, 3, 4, 5, 6, 7, 8, 0.5f, 0.25, Color::green), 38.75);  // 1 + 1 + 2 + ... + 8 + 0.75 + green (1)
}

TEST_F(GeneratedTypes, BlobsListsAndNestedStructs) {
  EXPECT_EQ(echo->blobs("ab", {1, 2}), (std::vector<uint8_t>{'a', 'b', 1, 2}));
  EXPECT_TRUE(echo->blobs("", {}).empty());
  Shape leaf;
  leaf.name = "leaf";
  leaf.label = "labelled";
  Shape root;
  root.name = "root ✓";
  root.origin = {1, 2};
  root.points = {{0, 0}, {3, 4}};
  root.corners = {{{1, 1}}, {}, {{2, 2}, {3, 3}}};
  root.tags = {"", "tag"};
  root.colors = {Color::red, Color::blue};
  root.blobs = {{}, {9}};
  root.style = {Color::green, 2.5f, Shape_Style_Kind::dashed};
  root.children = {leaf};
  root.center = Point{5, 6};
  root.renamedMember = -42;
  auto result = echo->shapes({root, Shape{}}, {{1, 2}, {}, {3}});
  ASSERT_EQ(result.size(), 2u);
  const Shape& got = result[0];
  EXPECT_EQ(got.name, root.name);
  EXPECT_EQ(got.origin.y, 2);
  EXPECT_EQ(got.points.size(), 2u);
  EXPECT_EQ(got.points[1].x, 3);
  ASSERT_EQ(got.corners.size(), 3u);
  EXPECT_TRUE(got.corners[1].empty());
  EXPECT_EQ(got.corners[2][1].y, 3);
  EXPECT_EQ(got.tags, root.tags);
  EXPECT_EQ(got.colors, root.colors);
  EXPECT_EQ(got.blobs, root.blobs);
  EXPECT_EQ(got.style.kind, Shape_Style_Kind::dashed);
  EXPECT_EQ(got.style.width, 2.5f);
  ASSERT_EQ(got.children.size(), 1u);
  EXPECT_EQ(got.children[0].label, std::optional<std::string>("labelled"));
  EXPECT_EQ(got.label, std::nullopt);
  ASSERT_TRUE(got.center.has_value());
  EXPECT_EQ(got.center->x, 5);
  EXPECT_EQ(got.renamedMember, -42);
  EXPECT_EQ(got.matrix, (std::vector<std::vector<int32_t>>{{1, 2}, {}, {3}}));
  EXPECT_EQ(result[1].name, "");
  EXPECT_FALSE(result[1].center.has_value());
}

TEST_F(GeneratedTypes, OptionalsOverridesDefaultsAndOutputs) {
  EXPECT_EQ(echo->optional(std::nullopt), std::nullopt);
  auto point = echo->optional(std::string("four"));
  ASSERT_TRUE(point.has_value());
  EXPECT_EQ(point->x, 4);
  auto keys = echo->overrides({{"a", 1}, {"", -5}}, std::chrono::milliseconds(1500), std::string("x\0y", 3));
  EXPECT_EQ(keys, (std::set<std::string>{"=-5", "a=1", "bytes=3", "timeout=1500"}));
  Defaults defaults;  // schema defaults as member initializers
  EXPECT_EQ(defaults.count, 5);
  EXPECT_EQ(defaults.color, Color::green);
  Overrides overrides = echo->defaults(defaults, Empty{});
  EXPECT_EQ(overrides.counts.at("count"), 5);
  EXPECT_EQ(overrides.names, (std::set<std::string>{"enabled"}));
  EXPECT_EQ(overrides.timeout, std::chrono::seconds(-3));
  EXPECT_EQ(overrides.bytes, "18446744073709551615");
  Shape_Style_Kind kind = Shape_Style_Kind::solid;
  Shape_Style style = echo->style(kind);
  EXPECT_EQ(kind, Shape_Style_Kind::dashed);
  EXPECT_EQ(style.color, Color::blue);
  echo->ping();
}

}  // namespace
