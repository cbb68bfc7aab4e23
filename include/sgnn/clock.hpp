// Elapsed wall time, for rates, wait fractions and progress.
#pragma once

#include <chrono>

namespace sgnn {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace sgnn
