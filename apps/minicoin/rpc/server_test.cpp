#include "rpc/server.h"

#include "common/logging.h"
#include "rpc/auth.h"
#include "rpc/client.h"
#include "rpc/table.h"
#include "rpc/util.h"

#include <httplib.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace minicoin {
namespace {

using Json = nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    m_path = std::filesystem::temp_directory_path() /
             ("minicoin_rpc_server_test_" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

RpcTable MakeTable(std::atomic<bool>* stop_requested = nullptr) {
  RpcTable table;
  table.Add({"echo", "test", {"arg0", "arg1", "arg2"}, "echo ...\n",
             [](const RpcRequest& request) -> Json { return request.params; }});
  table.Add({"whoami", "test", {}, "whoami\n", [](const RpcRequest& request) -> Json {
               return Json{{"user", request.auth_user}, {"uri", request.uri},
                           {"wallet", request.WalletName()}};
             }});
  table.Add({"fail", "test", {}, "fail\n", [](const RpcRequest&) -> Json {
               throw RpcError(kRpcInvalidParameter, "failed on purpose");
             }});
  table.Add({"big", "test", {"size"}, "big size\n", [](const RpcRequest& request) -> Json {
               return std::string(static_cast<std::size_t>(ParamInt(request, 0)), 'x');
             }});
  table.Add({"stop", "control", {}, "stop\n", [stop_requested](const RpcRequest&) -> Json {
               if (stop_requested != nullptr) *stop_requested = true;
               return "stopping";
             }});
  return table;
}

struct Fixture {
  explicit Fixture(HttpRpcServerOptions extra = {}) : server(Options(std::move(extra)), table) {
    server.Start();
    cookie = ReadCookieFile(dir.path() / ".cookie").value_or("");
  }
  HttpRpcServerOptions Options(HttpRpcServerOptions options) {
    options.cookie_file = dir.path() / ".cookie";
    options.auth_failure_delay = std::chrono::milliseconds(0);
    options.log = &log;
    return options;
  }
  httplib::Result Post(const std::string& body, const std::string& credentials,
                       const std::string& path = "/") {
    httplib::Client client("127.0.0.1", server.port());
    httplib::Headers headers;
    if (!credentials.empty()) headers.emplace("Authorization", "Basic " + Base64Encode(credentials));
    return client.Post(path, headers, body, "application/json");
  }
  httplib::Result Post(const std::string& body) { return Post(body, cookie); }
  httplib::Result PostAs(const std::string& body, const std::string& content_type) {
    httplib::Client client("127.0.0.1", server.port());
    httplib::Headers headers{{"Authorization", "Basic " + Base64Encode(cookie)}};
    return client.Post("/", headers, body, content_type.c_str());
  }

  TempDir dir;
  Logger log;
  RpcTable table = MakeTable();
  HttpRpcServer server;
  std::string cookie;
};

TEST(HttpRpcServerTest, CookieWrittenPrivateAndRemoved) {
  TempDir dir;
  RpcTable table = MakeTable();
  std::filesystem::path cookie_path = dir.path() / ".cookie";
  {
    HttpRpcServer server({.cookie_file = cookie_path, .auth_failure_delay = {}}, table);
    EXPECT_EQ(server.port(), 0);
    server.Start();
    EXPECT_NE(server.port(), 0);
    std::optional<std::string> cookie = ReadCookieFile(cookie_path);
    ASSERT_TRUE(cookie);
    EXPECT_EQ(cookie->size(), std::string("__cookie__:").size() + 64);
    EXPECT_EQ(cookie->rfind("__cookie__:", 0), 0u);
    EXPECT_EQ(cookie->find_first_not_of("0123456789abcdef", 11), std::string::npos);
    struct stat info {};
    ASSERT_EQ(::stat(cookie_path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    server.Stop();
    EXPECT_FALSE(std::filesystem::exists(cookie_path));
    server.Stop();  // idempotent
    // A restart gets a new cookie.
    server.Start();
    std::optional<std::string> second = ReadCookieFile(cookie_path);
    ASSERT_TRUE(second);
    EXPECT_NE(*second, *cookie);
  }
  // The destructor stops and removes it.
  EXPECT_FALSE(std::filesystem::exists(cookie_path));
}

TEST(HttpRpcServerTest, Authentication) {
  Fixture f({.user = "alice", .password = "secret"});
  auto reply = f.Post(R"({"method":"whoami","id":1})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(Json::parse(reply->body)["result"]["user"], "__cookie__");
  reply = f.Post(R"({"method":"whoami","id":1})", "alice:secret");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(Json::parse(reply->body)["result"]["user"], "alice");
  for (const std::string& bad : {std::string("alice:wrong"), std::string("__cookie__:00"),
                                 std::string(""), std::string("alice")}) {
    reply = f.Post(R"({"method":"whoami","id":1})", bad);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 401) << bad;
    EXPECT_TRUE(reply->has_header("WWW-Authenticate"));
  }
  // A header that is not valid base64.
  httplib::Client client("127.0.0.1", f.server.port());
  reply = client.Post("/", {{"Authorization", "Basic !!!!"}}, "{}", "application/json");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
}

TEST(HttpRpcServerTest, Version1Replies) {
  Fixture f;
  auto reply = f.Post(R"({"method":"echo","params":["a",1],"id":"x"})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->get_header_value("Content-Type"), "application/json");
  // Members in bitcoind's order.
  EXPECT_EQ(reply->body, "{\"result\":[\"a\",1],\"error\":null,\"id\":\"x\"}\n");
  reply = f.Post(R"({"method":"fail","id":2})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(Json::parse(reply->body),
            Json::parse(R"({"result":null,"error":{"code":-8,"message":"failed on purpose"},"id":2})"));
  reply = f.Post(R"({"method":"nosuch","id":3})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(Json::parse(reply->body)["error"]["code"], kRpcMethodNotFound);
  reply = f.Post(R"({"method":"echo","params":{"arg1":"b"},"id":4})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(Json::parse(reply->body)["result"], Json::parse(R"([null,"b"])"));
  reply = f.Post(R"({"method":"echo","params":{"zzz":"b"},"id":4})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(Json::parse(reply->body)["error"]["message"], "Unknown named parameter zzz");
  reply = f.Post(R"({"method":5,"id":4})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(Json::parse(reply->body)["error"]["code"], kRpcInvalidRequest);
  reply = f.Post(R"({"method":"echo","params":"x","id":4})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  reply = f.Post(R"({"method":"echo","jsonrpc":"3.0","id":4})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
}

TEST(HttpRpcServerTest, Version2Replies) {
  Fixture f;
  auto reply = f.Post(R"({"jsonrpc":"2.0","method":"echo","params":[1],"id":9})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "{\"jsonrpc\":\"2.0\",\"result\":[1],\"id\":9}\n");
  reply = f.Post(R"({"jsonrpc":"2.0","method":"nosuch","id":9})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  Json body = Json::parse(reply->body);
  EXPECT_FALSE(body.contains("result"));
  EXPECT_EQ(body["error"]["code"], kRpcMethodNotFound);
  EXPECT_EQ(body["id"], 9);
  reply = f.Post(R"({"jsonrpc":"2.0","method":"fail","id":1})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  // A notification (no id) gets no content.
  reply = f.Post(R"({"jsonrpc":"2.0","method":"echo"})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 204);
  EXPECT_EQ(reply->body, "");
}

TEST(HttpRpcServerTest, BatchAndParseErrors) {
  Fixture f;
  auto reply = f.Post(
      R"([{"method":"echo","params":["a"],"id":1},{"method":"fail","id":2},)"
      R"({"jsonrpc":"2.0","method":"echo","params":["n"]},7,)"
      R"({"jsonrpc":"2.0","method":"echo","id":3}])");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  Json body = Json::parse(reply->body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 4u) << reply->body;  // the notification has no reply
  EXPECT_EQ(body[0]["result"], Json::parse(R"(["a"])"));
  EXPECT_EQ(body[1]["error"]["code"], kRpcInvalidParameter);
  EXPECT_EQ(body[2]["error"]["code"], kRpcInvalidRequest);
  EXPECT_EQ(body[3]["jsonrpc"], "2.0");
  EXPECT_EQ(body[3]["id"], 3);
  reply = f.Post("[]");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "[]\n");
  reply = f.Post(R"({"method": "echo", )");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body, "{\"result\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\"},\"id\":null}\n");
  reply = f.Post("\"just a string\"");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
}

TEST(HttpRpcServerTest, PathsMethodsAndSizes) {
  Fixture f({.max_body_bytes = 1000});
  auto reply = f.Post(R"({"method":"whoami","id":1})", f.cookie, "/wallet/w1");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(Json::parse(reply->body)["result"]["wallet"], "w1");
  reply = f.Post(R"({"method":"whoami","id":1})", f.cookie, "/wallet/two%20words");
  ASSERT_TRUE(reply);
  EXPECT_EQ(Json::parse(reply->body)["result"]["wallet"], "two words");
  reply = f.Post(R"({"method":"whoami","id":1})", f.cookie, "/other");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_NE(reply->body.find("/wallet/<name>"), std::string::npos) << reply->body;
  httplib::Client client("127.0.0.1", f.server.port());
  reply = client.Get("/");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_NE(reply->body.find("POST"), std::string::npos) << reply->body;
  // Over the body limit: refused with a reason, whatever the Content-Type.
  std::string big_body = R"({"method":"echo","params":[")" + std::string(2000, 'y') + R"("],"id":1})";
  for (const char* type : {"application/json", "application/x-www-form-urlencoded", "text/plain"}) {
    reply = f.PostAs(big_body, type);
    ASSERT_TRUE(reply) << type;
    EXPECT_EQ(reply->status, 413) << type;
    EXPECT_NE(reply->body.find("limit of 1000 bytes"), std::string::npos) << type << ": " << reply->body;
  }
  // Large results are fine.
  reply = f.Post(R"({"method":"big","params":[5000000],"id":1})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(Json::parse(reply->body)["result"].get<std::string>().size(), 5000000u);
}

// curl --data sends application/x-www-form-urlencoded; such bodies are JSON-RPC like any other,
// also past the 8 KiB httplib allows form data.
TEST(HttpRpcServerTest, BodiesAreJsonWhateverTheirContentType) {
  Fixture f;
  std::string text(100000, 'z');
  std::string body = R"({"method":"echo","params":[")" + text + R"("],"id":7})";
  for (const char* type : {"application/x-www-form-urlencoded", "text/plain", "application/octet-stream"}) {
    auto reply = f.PostAs(body, type);
    ASSERT_TRUE(reply) << type;
    EXPECT_EQ(reply->status, 200) << type;
    EXPECT_EQ(Json::parse(reply->body)["result"][0], text) << type;
  }
  auto reply = f.PostAs("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
                        "multipart/form-data; boundary=b");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 415);
  EXPECT_NE(reply->body.find("multipart/form-data"), std::string::npos) << reply->body;
}

// A request nested far deeper than any real one is refused as a parse error; the server keeps
// serving (a recursive copy of such a value would overflow the stack).
TEST(HttpRpcServerTest, DeeplyNestedRequestsAreRefused) {
  Fixture f;
  const std::size_t depth = 100000;
  std::string body = R"({"method":"echo","params":)" + std::string(depth, '[') + std::string(depth, ']') +
                     R"(,"id":1})";
  auto reply = f.Post(body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  Json parsed = Json::parse(reply->body);
  EXPECT_EQ(parsed["error"]["code"], kRpcParseError);
  EXPECT_EQ(parsed["error"]["message"], "Parse error: JSON nested deeper than 512 levels");
  // At the limit: the request object is level 1, so params may nest 511 deep.
  body = R"({"method":"echo","params":)" + std::string(511, '[') + std::string(511, ']') + R"(,"id":2})";
  reply = f.Post(body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200) << reply->body.substr(0, 200);
  body = R"({"method":"echo","params":)" + std::string(512, '[') + std::string(512, ']') + R"(,"id":3})";
  reply = f.Post(body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  // Brackets inside strings do not count.
  body = R"({"method":"echo","params":[")" + std::string(5000, '[') + R"("],"id":4})";
  reply = f.Post(body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  reply = f.Post(R"({"method":"echo","params":[1],"id":5})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST(HttpRpcServerTest, BindFailure) {
  Fixture f;
  TempDir dir;
  RpcTable table = MakeTable();
  HttpRpcServer second({.port = f.server.port(), .cookie_file = dir.path() / ".cookie"}, table);
  try {
    second.Start();
    FAIL() << "bound the same port twice";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "Unable to bind to 127.0.0.1:" + std::to_string(f.server.port()) + ": Address in use");
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / ".cookie"));
  HttpRpcServer bad_address({.bind = {"127.0.0.1:notaport"}, .cookie_file = dir.path() / ".cookie"},
                            table);
  EXPECT_THROW(bad_address.Start(), std::runtime_error);
  HttpRpcServer no_credentials({}, table);
  EXPECT_THROW(no_credentials.Start(), std::runtime_error);
  // The first server still serves.
  auto reply = f.Post(R"({"method":"echo","id":1})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST(HttpRpcServerTest, ConcurrentClientsAndClientCall) {
  Fixture f;
  RpcClientOptions options;
  options.port = f.server.port();
  options.credentials = f.cookie;
  EXPECT_EQ(CallRpc(options, "echo", Json::array({"hi"})), Json::parse(R"(["hi"])"));
  try {
    CallRpc(options, "fail", Json::array());
    FAIL();
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code, kRpcInvalidParameter);
    EXPECT_EQ(std::string(e.what()), "failed on purpose");
  }
  options.credentials = "__cookie__:wrong";
  EXPECT_THROW(CallRpc(options, "echo", Json::array()), RpcAuthorizationError);
  options.credentials = f.cookie;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        Json result = CallRpc(options, "echo", Json::array({t, i}));
        if (result == Json::array({t, i})) ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good, 160);
  f.server.Stop();
  EXPECT_THROW(CallRpc(options, "echo", Json::array()), RpcConnectionError);
}

TEST(HttpRpcServerTest, StopFromHandlerThrowsInsteadOfDeadlocking) {
  TempDir dir;
  RpcTable table;
  HttpRpcServer* server_pointer = nullptr;
  std::string what;
  table.Add({"stopnow", "control", {}, "stopnow\n", [&](const RpcRequest&) -> Json {
               try {
                 server_pointer->Stop();
               } catch (const std::logic_error& e) {
                 what = e.what();
               }
               return "ok";
             }});
  HttpRpcServer server({.cookie_file = dir.path() / ".cookie"}, table);
  server_pointer = &server;
  server.Start();
  RpcClientOptions options;
  options.port = server.port();
  options.credentials = ReadCookieFile(dir.path() / ".cookie").value_or("");
  EXPECT_EQ(CallRpc(options, "stopnow", Json::array()), "ok");
  EXPECT_NE(what.find("called from an RPC handler"), std::string::npos);
  server.Stop();
}

TEST(HttpRpcServerTest, AuthFailuresAreLogged) {
  TempDir dir;
  Logger log;
  std::string error;
  ASSERT_TRUE(log.Open({.file = dir.path() / "debug.log"}, error)) << error;
  log.EnableCategory(LogCategory::kRpc);
  RpcTable table = MakeTable();
  HttpRpcServer server({.cookie_file = dir.path() / ".cookie", .auth_failure_delay = {}, .log = &log},
                       table);
  server.Start();
  RpcClientOptions options;
  options.port = server.port();
  options.credentials = "__cookie__:bad";
  EXPECT_THROW(CallRpc(options, "echo", Json::array()), RpcAuthorizationError);
  options.credentials = ReadCookieFile(dir.path() / ".cookie").value_or("");
  CallRpc(options, "echo", Json::array());
  server.Stop();
  std::ifstream file(dir.path() / "debug.log");
  std::ostringstream contents;
  contents << file.rdbuf();
  std::string text = contents.str();
  EXPECT_NE(text.find("incorrect password attempt from 127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("[rpc] ThreadRPCServer method=echo user=__cookie__"), std::string::npos) << text;
}

TEST(AuthTest, Base64AndCompare) {
  for (std::string text : {"", "a", "ab", "abc", "abcd", "__cookie__:0123"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(text)), text);
  }
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_FALSE(Base64Decode("abc"));
  EXPECT_FALSE(Base64Decode("ab=c"));
  EXPECT_FALSE(Base64Decode("a!cd"));
  EXPECT_EQ(DecodeBasicAuth("Basic dXNlcjpwYXNz"), "user:pass");
  EXPECT_FALSE(DecodeBasicAuth("Bearer dXNlcjpwYXNz"));
  EXPECT_FALSE(DecodeBasicAuth("Basic " + Base64Encode("nocolon")));
  EXPECT_TRUE(TimingSafeEqual("abc", "abc"));
  EXPECT_FALSE(TimingSafeEqual("abc", "abd"));
  EXPECT_FALSE(TimingSafeEqual("abc", "abcabc"));
  EXPECT_FALSE(TimingSafeEqual("", "a"));
  EXPECT_FALSE(TimingSafeEqual("a", ""));
  EXPECT_TRUE(TimingSafeEqual("", ""));
}

}  // namespace
}  // namespace minicoin
