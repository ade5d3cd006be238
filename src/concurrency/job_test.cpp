// Tests of Job: configure before start, wait, errors, deterministic pool.
#include <crossproc/job.h>

#include <gtest/gtest.h>

#include <stdexcept>

namespace crossproc {
namespace {

// Sums numbers, failing on negative ones unless told to skip them.
class SumJob final : public Job {
 public:
  SumJob(WorkerPool& pool, std::vector<int> numbers) : Job(pool), m_numbers(std::move(numbers)) {}
  void SetSkipNegative(bool skip) {
    RequireConfiguring();
    m_skip_negative = skip;
  }
  int sum() const { return m_sum; }

 protected:
  void Run() override {
    for (int number : m_numbers) {
      if (number < 0 && !m_skip_negative) {
        AddError("negative number " + std::to_string(number));
        continue;
      }
      if (number >= 0) m_sum += number;
    }
    if (m_numbers.empty()) throw std::invalid_argument("nothing to sum");
  }

 private:
  std::vector<int> m_numbers;
  bool m_skip_negative = false;
  int m_sum = 0;
};

TEST(Job, ConfigureStartWaitAndReadErrors) {
  WorkerPool pool(WorkerPoolOptions{.threads = 2});
  auto job = std::make_shared<SumJob>(pool, std::vector<int>{1, -2, 3});
  EXPECT_EQ(job->state(), Job::State::kConfiguring);
  job->Start();
  job->Wait();
  EXPECT_TRUE(job->finished());
  EXPECT_EQ(job->sum(), 4);
  ASSERT_EQ(job->errors().size(), 1u);
  EXPECT_EQ(job->errors()[0], "negative number -2");
  EXPECT_THROW(job->SetSkipNegative(true), std::logic_error);
  EXPECT_THROW(job->Start(), std::logic_error);
}

TEST(Job, ConfigurationChangesTheWork) {
  WorkerPool pool(WorkerPoolOptions{.threads = 1});
  auto job = std::make_shared<SumJob>(pool, std::vector<int>{1, -2, 3});
  job->SetSkipNegative(true);
  job->Start();
  EXPECT_TRUE(job->WaitFor(std::chrono::seconds(5)));
  EXPECT_TRUE(job->errors().empty());
}

TEST(Job, ExceptionsBecomeErrorsAndDeterministicPoolsRunOnDemand) {
  WorkerPool pool(WorkerPoolOptions{.deterministic = true});
  auto job = std::make_shared<SumJob>(pool, std::vector<int>{});
  job->Start();
  EXPECT_EQ(job->state(), Job::State::kStarted);
  EXPECT_FALSE(job->WaitFor(std::chrono::milliseconds(1)));
  pool.RunPending();
  EXPECT_TRUE(job->finished());
  ASSERT_EQ(job->errors().size(), 1u);
  EXPECT_EQ(job->errors()[0], "nothing to sum");
}

TEST(Job, RunHereRunsOnTheCallerAndFinishes) {
  WorkerPool pool(WorkerPoolOptions{.deterministic = true});  // RunPending is never called
  auto job = std::make_shared<SumJob>(pool, std::vector<int>{1, -2, 3});
  job->RunHere();
  EXPECT_TRUE(job->finished());
  EXPECT_EQ(job->sum(), 4);
  ASSERT_EQ(job->errors().size(), 1u);
  EXPECT_EQ(job->errors()[0], "negative number -2");
  EXPECT_THROW(job->RunHere(), std::logic_error);
  EXPECT_THROW(job->Start(), std::logic_error);
  auto throwing = std::make_shared<SumJob>(pool, std::vector<int>{});
  throwing->RunHere();
  ASSERT_EQ(throwing->errors().size(), 1u);
  EXPECT_EQ(throwing->errors()[0], "nothing to sum");
}

TEST(Job, StoppedPoolFinishesWithAnError) {
  WorkerPool pool(WorkerPoolOptions{.deterministic = true});
  pool.Stop(WorkerPool::Shutdown::kCancel);
  auto job = std::make_shared<SumJob>(pool, std::vector<int>{1});
  job->Start();
  EXPECT_TRUE(job->finished());
  EXPECT_EQ(job->errors().size(), 1u);
}

}  // namespace
}  // namespace crossproc
