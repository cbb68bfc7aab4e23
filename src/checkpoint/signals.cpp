#include "sgnn/checkpoint/signals.hpp"

#include "sgnn/stop.hpp"

#include <csignal>

namespace sgnn::checkpoint {
namespace {

extern "C" void record_stop_signal(int signal_number) {
    if (detail::stop_signal_number == 0) detail::stop_signal_number = signal_number;
}

}  // namespace

void install_stop_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGUSR1, &action, nullptr);
}

int pending_stop_signal() { return stop_signal(); }

const char* stop_signal_name(int signal_number) {
    switch (signal_number) {
        case SIGTERM:
            return "SIGTERM";
        case SIGUSR1:
            return "SIGUSR1";
        default:
            return "a signal";
    }
}

}  // namespace sgnn::checkpoint
