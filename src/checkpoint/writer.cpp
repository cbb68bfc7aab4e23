#include "sgnn/checkpoint/writer.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/watchdog.hpp"

#include <chrono>
#include <stdexcept>

namespace sgnn::checkpoint {

Writer::Writer(MPI_Comm checkpointers, int local_roles, double timeout_seconds)
    : comm_(checkpointers), local_roles_(local_roles), timeout_seconds_(timeout_seconds) {}

bool Writer::contribute(const std::string& path, std::vector<io::Dataset> datasets,
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
    // The previous checkpoint stays intact whatever happens to this write.
    const Watchdog watchdog(timeout_seconds_, "writing checkpoint " + path, "checkpoint.timeout");
    io::write_datasets_collectively(comm_, path, mine, attributes_now);
    last_seconds_ = seconds_since(start);
    return true;
}

}  // namespace sgnn::checkpoint
