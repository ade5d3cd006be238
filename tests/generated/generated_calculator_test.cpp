// Generated code at work, end to end over a socket pair.
#include "calculator.crossproc.h"

#include <crossproc/connection.h>

#include "transport/socket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace {

using golden::calc::Calculator;

std::atomic<int> g_live_calculators{0};

class CalculatorImpl final : public Calculator {
 public:
  explicit CalculatorImpl(std::string name) : m_name(std::move(name)) { ++g_live_calculators; }
  ~CalculatorImpl() override { --g_live_calculators; }

  double add(double a, double b) override { return a + b; }
  double divide(double a, double b) override {
    if (b == 0) throw golden::calc::DivisionByZero("division of " + std::to_string(a) + " by zero");
    return a / b;
  }
  void divmod(int64_t a, int64_t b, int64_t& quotient, int64_t& remainder) override {
    quotient = a / b;
    remainder = a % b;
  }
  void accumulate(double& total, double value) override { total += value; }
  bool minMax(const std::vector<double>& values, double& min, double& max) override {
    if (values.empty()) return false;
    if (values.size() > 100) throw golden::calc::Overflow("too many values");
    min = *std::min_element(values.begin(), values.end());
    max = *std::max_element(values.begin(), values.end());
    return true;
  }
  void reset() override { m_history.clear(); }
  void forEach(const std::shared_ptr<golden::calc::Visitor>& visitor) override {
    for (double value : {1.0, 2.0, 3.0}) m_history.push_back(std::to_string(visitor->call(value)));
  }
  void apply(const std::function<double(double)>& fn) override { m_history.push_back(std::to_string(fn(10))); }
  void subscribe(const std::shared_ptr<golden::calc::Visitor>&,
                 std::unique_ptr<golden::calc::Subscription>& subscription) override {
    struct SubscriptionImpl final : golden::calc::Subscription {
      void cancel() override {}
    };
    subscription = std::make_unique<SubscriptionImpl>();
  }
  std::optional<std::string> lastError() override {
    if (m_history.empty()) return std::nullopt;
    return m_history.back();
  }
  std::vector<std::string> history() override { return m_history; }
  void transfer(std::unique_ptr<Calculator> target) override {
    // The object handed over must be alive and usable here.
    m_history.push_back("transferred adds " + std::to_string(target->add(20, 22)));
    m_kept = std::move(target);
  }
  void run(const std::function<void(const std::string&, int32_t)>& progress) override {
    for (int32_t percent : {0, 50, 100}) progress(m_name, percent);
  }

 private:
  std::string m_name;
  std::vector<std::string> m_history;
  std::unique_ptr<Calculator> m_kept;
};

class InitImpl final : public golden::calc::Init {
 public:
  std::unique_ptr<Calculator> makeCalculator(const std::string& name) override {
    return std::make_unique<CalculatorImpl>(name);
  }
};

struct Pair {
  Pair() {
    auto [a, b] = crossproc::transport::SocketPair();
    server = std::make_unique<crossproc::Connection>(
        a.release(), std::shared_ptr<golden::calc::Init>(std::make_shared<InitImpl>()));
    client = std::make_unique<crossproc::Connection>(b.release());
    init = client->Bootstrap<golden::calc::Init>();
  }
  std::unique_ptr<crossproc::Connection> server;
  std::unique_ptr<crossproc::Connection> client;
  std::unique_ptr<golden::calc::InitClient> init;
};

TEST(Generated, ResultsOutputsAndInOutParameters) {
  Pair pair;
  auto calculator = pair.init->makeCalculator("main");
  EXPECT_EQ(calculator->add(2, 3), 5);
  int64_t quotient = 0, remainder = 0;
  calculator->divmod(17, 5, quotient, remainder);
  EXPECT_EQ(quotient, 3);
  EXPECT_EQ(remainder, 2);
  double total = 1.5;
  calculator->accumulate(total, 2.0);
  EXPECT_EQ(total, 3.5);
  double min = 0, max = 0;
  EXPECT_TRUE(calculator->minMax({3, -1, 7}, min, max));
  EXPECT_EQ(min, -1);
  EXPECT_EQ(max, 7);
  EXPECT_FALSE(calculator->minMax({}, min, max));
}

TEST(Generated, CarriedExceptionsAreRethrownAsTheirType) {
  Pair pair;
  auto calculator = pair.init->makeCalculator("main");
  EXPECT_THROW(calculator->divide(1, 0), golden::calc::DivisionByZero);
  EXPECT_EQ(calculator->divide(9, 3), 3);
  std::vector<double> many(101, 1.0);
  double min = 0, max = 0;
  EXPECT_THROW(calculator->minMax(many, min, max), golden::calc::Overflow);
}

TEST(Generated, OptionalsListsAndEventLoopMethods) {
  Pair pair;
  auto calculator = pair.init->makeCalculator("main");
  EXPECT_EQ(calculator->lastError(), std::nullopt);
  calculator->apply([](double value) { return value * 3; });
  EXPECT_EQ(calculator->lastError(), std::optional<std::string>(std::to_string(30.0)));
  EXPECT_EQ(calculator->history().size(), 1u);
  calculator->reset();  // a method without Context: runs on the server's event-loop thread
  EXPECT_TRUE(calculator->history().empty());
}

TEST(Generated, CallbacksAsInterfacesAndFunctions) {
  Pair pair;
  auto calculator = pair.init->makeCalculator("main");
  struct Doubler final : golden::calc::Visitor {
    std::thread::id thread;
    double call(double value) override {
      thread = std::this_thread::get_id();
      return value * 2;
    }
  };
  auto doubler = std::make_shared<Doubler>();
  calculator->forEach(doubler);
  EXPECT_EQ(doubler->thread, std::this_thread::get_id());
  EXPECT_EQ(calculator->history(),
            (std::vector<std::string>{std::to_string(2.0), std::to_string(4.0), std::to_string(6.0)}));
  std::vector<int32_t> percents;
  calculator->run([&](const std::string& stage, int32_t percent) {
    EXPECT_EQ(stage, "main");
    percents.push_back(percent);
  });
  EXPECT_EQ(percents, (std::vector<int32_t>{0, 50, 100}));
  std::unique_ptr<golden::calc::Subscription> subscription;
  calculator->subscribe(doubler, subscription);
  ASSERT_NE(subscription, nullptr);
  subscription->cancel();
}

TEST(Generated, ObjectHandedOverByUniquePtrStaysAlive) {
  Pair pair;
  int before = g_live_calculators.load();
  auto first = pair.init->makeCalculator("first");
  auto second = pair.init->makeCalculator("second");
  EXPECT_EQ(g_live_calculators.load(), before + 2);
  first->transfer(std::move(second));  // the server now owns the second calculator
  EXPECT_EQ(g_live_calculators.load(), before + 2);
  EXPECT_EQ(first->history(), (std::vector<std::string>{"transferred adds " + std::to_string(42.0)}));
  first.reset();  // destroys the first, which owned the second
  EXPECT_EQ(g_live_calculators.load(), before);
}

TEST(Generated, AsynchronousTwins) {
  Pair pair;
  auto calculator = pair.init->makeCalculator("main");
  auto* client = static_cast<golden::calc::CalculatorClient*>(calculator.get());
  auto sum = client->addAsync(20, 22);
  auto quotient = client->divideAsync(1, 0);
  EXPECT_EQ(sum.get(), 42);
  EXPECT_THROW(quotient.get(), golden::calc::DivisionByZero);
}

}  // namespace
