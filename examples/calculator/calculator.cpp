// The calculator example: the parent process calls a Calculator that lives in a child process.
#include "calculator.h"

#include <crossproc/connection.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace calc {

double CalculatorImpl::add(double a, double b) {
  m_history.push_back(m_name + ": " + std::to_string(a) + " + " + std::to_string(b));
  return a + b;
}

double CalculatorImpl::divide(double a, double b) {
  if (b == 0) throw DivisionByZero("cannot divide " + std::to_string(a) + " by zero");
  m_history.push_back(m_name + ": " + std::to_string(a) + " / " + std::to_string(b));
  return a / b;
}

std::vector<std::string> CalculatorImpl::history() { return m_history; }

}  // namespace calc

int main() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    std::perror("socketpair");
    return 1;
  }
  pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) {
    // The server: serves an Init on its end of the socket pair until the parent disconnects.
    close(fds[0]);
    crossproc::Connection server(fds[1], std::shared_ptr<calc::Init>(std::make_shared<calc::InitImpl>()));
    server.WaitForDisconnect();
    return 0;
  }
  close(fds[1]);
  int status = 0;
  {
    // The client: everything below is a plain C++ call that runs in the child process.
    crossproc::Connection connection(fds[0]);
    auto init = connection.Bootstrap<calc::Init>();
    auto calculator = init->makeCalculator("demo");
    std::cout << "2 + 3 = " << calculator->add(2, 3) << "\n";
    std::cout << "10 / 4 = " << calculator->divide(10, 4) << "\n";
    try {
      calculator->divide(1, 0);
    } catch (const calc::DivisionByZero& e) {
      std::cout << "1 / 0 threw calc::DivisionByZero: " << e.what() << "\n";
    }
    std::cout << "history kept by process " << child << ":\n";
    for (const auto& line : calculator->history()) std::cout << "  " << line << "\n";
  }
  waitpid(child, &status, 0);
  std::cout << "server process exited with status " << WEXITSTATUS(status) << "\n";
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
