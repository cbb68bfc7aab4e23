// Polling waits. No rank ever sits in a blocking MPI wait: it tests its requests and
// sleeps between tests, starting at a few microseconds and backing off to a
// millisecond. Ranks thus stay responsive to stops and errors, and idle ranks leave
// the cores to busy ones (Open MPI's blocking waits spin, which starves the other
// ranks when they share cores under --oversubscribe).
#pragma once

#include <chrono>
#include <thread>

namespace sgnn::comm {

class Backoff {
public:
    void reset() { delay_us_ = kMinUs; }
    void idle() {
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
        delay_us_ = delay_us_ * 2 > kMaxUs ? kMaxUs : delay_us_ * 2;
    }

private:
    static constexpr int kMinUs = 5;
    static constexpr int kMaxUs = 1000;
    int delay_us_ = kMinUs;
};

}  // namespace sgnn::comm
