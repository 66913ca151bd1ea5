// factoryops: one binary, many roles (see docs/architecture.md).
#include "app/cli.hpp"

int main(int argc, char** argv) {
  return factoryops::app::run_cli(argc, argv);
}
