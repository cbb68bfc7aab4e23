// Human-readable progress: durations, rates and a smoothed step rate for the ETA.
#pragma once

#include <string>

namespace sgnn::coord {

std::string format_duration(double seconds);  // "45s", "3m05s", "2h10m"
std::string format_count(double value);       // "950", "8.3k", "1.25M"

// Exponentially smoothed rate of a growing counter, for ETAs that do not jump.
class RateEstimate {
public:
    void update(double time_seconds, double count);
    double per_second() const { return rate_; }

private:
    double last_time_ = -1.0;
    double last_count_ = 0.0;
    double rate_ = 0.0;
};

}  // namespace sgnn::coord
