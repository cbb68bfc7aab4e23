#include "sgnn/coord/checkpoint_writer.hpp"

#include "sgnn/clock.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace sgnn::coord {

namespace {

// Ends the process if the guarded scope outlives its deadline. MPI cannot be called
// from this thread (MPI_THREAD_FUNNELED); the launcher ends the other ranks once this
// one is gone.
class Watchdog {
public:
    Watchdog(double seconds, std::string what) : what_(std::move(what)) {
        thread_ = std::thread([this, seconds] {
            std::unique_lock<std::mutex> lock(mutex_);
            if (!done_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return finished_; })) {
                std::fprintf(stderr, "sgnn: error: %s did not finish within %.0f s (checkpoint.timeout); stopping the "
                             "job. The previous checkpoint is intact.\n", what_.c_str(), seconds);
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

private:
    std::string what_;
    std::mutex mutex_;
    std::condition_variable done_;
    bool finished_ = false;
    std::thread thread_;
};

}  // namespace

CheckpointWriter::CheckpointWriter(MPI_Comm checkpointers, int local_roles, double timeout_seconds)
    : comm_(checkpointers), local_roles_(local_roles), timeout_seconds_(timeout_seconds) {}

bool CheckpointWriter::contribute(const std::string& path, std::vector<io::Dataset> datasets,
                                  const std::map<std::string, std::string>& attributes) {
    if (contributed_ > 0 && path != path_) {
        throw std::logic_error("checkpoint roles of one rank disagree on the file: " + path_ + " and " + path);
    }
    path_ = path;
    for (io::Dataset& d : datasets) datasets_.push_back(std::move(d));
    attributes_.insert(attributes.begin(), attributes.end());
    if (++contributed_ < local_roles_) return false;

    const auto start = std::chrono::steady_clock::now();
    last_bytes_ = 0.0;
    for (const io::Dataset& d : datasets_) last_bytes_ += static_cast<double>(d.bytes.size());
    std::vector<io::Dataset> mine = std::move(datasets_);
    std::map<std::string, std::string> attributes_now = std::move(attributes_);
    datasets_.clear();
    attributes_.clear();
    contributed_ = 0;
    const Watchdog watchdog(timeout_seconds_, "writing " + path);
    io::write_datasets_collectively(comm_, path, mine, attributes_now);
    last_seconds_ = seconds_since(start);
    return true;
}

}  // namespace sgnn::coord
