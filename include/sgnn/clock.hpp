// Elapsed wall time, for rates, wait fractions and progress; the UTC time stamps
// files record.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace sgnn {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// "2026-11-25T07:04:05Z"
inline std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return text;
}

}  // namespace sgnn
