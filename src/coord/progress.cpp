#include "sgnn/coord/progress.hpp"

#include <cmath>
#include <cstdio>

namespace sgnn::coord {

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const long total = std::lround(seconds);
    char text[32];
    if (total < 60) {
        std::snprintf(text, sizeof text, "%lds", total);
    } else if (total < 3600) {
        std::snprintf(text, sizeof text, "%ldm%02lds", total / 60, total % 60);
    } else {
        std::snprintf(text, sizeof text, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
    }
    return text;
}

std::string format_count(double value) {
    char text[32];
    if (value >= 1e6) {
        std::snprintf(text, sizeof text, "%.2fM", value / 1e6);
    } else if (value >= 1e4) {
        std::snprintf(text, sizeof text, "%.1fk", value / 1e3);
    } else {
        std::snprintf(text, sizeof text, "%.0f", value);
    }
    return text;
}

void RateEstimate::update(double time_seconds, double count) {
    if (last_time_ >= 0.0 && time_seconds > last_time_) {
        const double instant = (count - last_count_) / (time_seconds - last_time_);
        // Weight by elapsed time, with a ~5 s memory.
        const double weight = 1.0 - std::exp(-(time_seconds - last_time_) / 5.0);
        rate_ = rate_ == 0.0 ? instant : rate_ + weight * (instant - rate_);
    }
    last_time_ = time_seconds;
    last_count_ = count;
}

}  // namespace sgnn::coord
