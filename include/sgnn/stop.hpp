// Stop requests as long-running work sees them.
//
// SIGTERM and SIGUSR1 mean "stop soon" (checkpoint/signals.hpp installs the handler that
// records them). During training the answer is a checkpoint at the next step boundary.
// Elsewhere there is nothing to checkpoint: while a StopScope lives (normalization and
// evaluation sets, corpora, banks, experiments), a stop signal abandons the work in
// progress within about a second, sample generation and slow samples included, by
// throwing StopRequested; the command then ends with kExitRequeue and one line.
// Outside a StopScope (streaming training) samples always finish, so that no batch a
// trainer consumes holds a sample cut short.
#pragma once

#include <atomic>
#include <csignal>
#include <stdexcept>
#include <string>

namespace sgnn {

namespace detail {
inline volatile std::sig_atomic_t stop_signal_number = 0;  // written by the signal handler only
inline std::atomic<int> stop_scopes{0};
}  // namespace detail

// The first stop signal this process received (SIGTERM or SIGUSR1), or 0.
inline int stop_signal() noexcept { return detail::stop_signal_number; }

class StopRequested : public std::runtime_error {
public:
    StopRequested(int signal_number, const std::string& during)
        : std::runtime_error("stopped by " + std::string(signal_number == SIGUSR1 ? "SIGUSR1" : "SIGTERM") +
                             " during " + during +
                             ", before anything could be saved; run the command again to redo it"),
          signal_(signal_number) {}
    int signal_number() const { return signal_; }

private:
    int signal_;
};

class StopScope {
public:
    StopScope() { ++detail::stop_scopes; }
    ~StopScope() { --detail::stop_scopes; }
    StopScope(const StopScope&) = delete;
    StopScope& operator=(const StopScope&) = delete;
};

// Whether work in progress should be abandoned now: a stop signal inside a StopScope.
inline bool stopping() noexcept { return stop_signal() != 0 && detail::stop_scopes.load() > 0; }

// Throws StopRequested naming `during` when stopping().
inline void throw_if_stopping(const std::string& during) {
    if (stopping()) throw StopRequested(stop_signal(), during);
}

}  // namespace sgnn
