#include "common/stop_signal.h"

#include <atomic>
#include <csignal>

namespace fersweep {
namespace {

std::atomic<int> received{0};

extern "C" void on_stop_signal(int signal_number) {
  if (received.exchange(signal_number) != 0) {  // the second one: stop now
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
  }
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
}

void ignore_stop_signals() {
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
}

int stop_signal() {
  return received.load();
}

void request_stop(int signal_number) {
  received.store(signal_number);
}

}  // namespace fersweep
