// Ends the process if a scope outlives its deadline: the way out of a collective call
// that can no longer complete (a rank failed inside parallel HDF5, a file system hangs).
// MPI cannot be called from the watchdog's thread (MPI_THREAD_FUNNELED); the launcher
// ends the other ranks once this one is gone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace sgnn {

class Watchdog {
public:
    // `what` names the operation and `setting` the option that sets the deadline.
    Watchdog(double seconds, std::string what, std::string setting)
        : what_(std::move(what)), setting_(std::move(setting)) {
        thread_ = std::thread([this, seconds] {
            std::unique_lock<std::mutex> lock(mutex_);
            if (!done_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return finished_; })) {
                std::fprintf(stderr, "sgnn: error: %s did not finish within %.0f s (%s); stopping the job\n",
                             what_.c_str(), seconds, setting_.c_str());
                std::fflush(stderr);
                std::_Exit(1);
            }
        });
    }
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            finished_ = true;
        }
        done_.notify_one();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    std::string what_, setting_;
    std::mutex mutex_;
    std::condition_variable done_;
    bool finished_ = false;
    std::thread thread_;
};

}  // namespace sgnn
