// PartialInit: an Init whose methods all fail; each executable overrides what it offers.
#pragma once

#include "init.crossproc.h"

#include <stdexcept>
#include <string>

namespace minicoin::ipc {

// Base of the Init each minicoin executable serves. A method the executable does not override
// throws "<process> does not offer <method>", which reaches the caller as a RemoteError.
class PartialInit : public Init {
 public:
  explicit PartialInit(std::string process) : m_process(std::move(process)) {}

  std::unique_ptr<Echo> makeEcho() override { Unoffered("makeEcho"); }
  std::unique_ptr<Chain> makeChain() override { Unoffered("makeChain"); }
  std::unique_ptr<WalletLoader> makeWalletLoader(const std::shared_ptr<Chain>&) override { Unoffered("makeWalletLoader"); }
  std::unique_ptr<Handler> registerWalletLoader(const std::shared_ptr<WalletLoader>&) override {
    Unoffered("registerWalletLoader");
  }
  std::unique_ptr<Mining> makeMining() override { Unoffered("makeMining"); }
  std::unique_ptr<Node> makeNode() override { Unoffered("makeNode"); }
  std::unique_ptr<Net> makeNet(const std::shared_ptr<NetChain>&) override { Unoffered("makeNet"); }

 protected:
  [[noreturn]] void Unoffered(const char* method) const {
    throw std::runtime_error(m_process + " does not offer " + method);
  }

 private:
  std::string m_process;
};

}  // namespace minicoin::ipc
