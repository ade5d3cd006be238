// minicoin-node: the minicoin node, a drop-in for minicoind that also works with other processes:
// it serves programs connecting to -ipcbind, runs parts in child processes, and started by a
// front end as `minicoin-node -ipcfd <N> ...` serves it on descriptor N, shutting down when that
// connection closes.
#include "node/node.h"

int main(int argc, char** argv) {
  return minicoin::NodeMain(argc, argv, {.multiprocess = true, .executable_name = "minicoin-node"});
}
