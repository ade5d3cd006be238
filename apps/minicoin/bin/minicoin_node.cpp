// minicoin-node: the minicoin node, a drop-in for minicoind that also works with other processes:
// it serves programs connecting to -ipcbind and runs parts in child processes.
#include "node/node.h"

int main(int argc, char** argv) {
  return minicoin::NodeMain(argc, argv, {.multiprocess = true, .executable_name = "minicoin-node"});
}
