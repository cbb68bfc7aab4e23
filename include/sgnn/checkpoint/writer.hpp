// Collects what the checkpointing roles of this rank contribute (the coordinator, a
// trainer, or both in a single process) and writes the checkpoint once each of them
// has: one collective write per rank over the checkpointers communicator
// (coordinator + trainers), whatever the roles.
#pragma once

#include "sgnn/io/h5_datasets.hpp"

#include <mpi.h>

#include <map>
#include <string>
#include <vector>

namespace sgnn::checkpoint {

class Writer {
public:
    // A write that has not finished after `timeout_seconds` (a rank failed inside a
    // collective HDF5 call, or the file system hangs) ends this process with an error,
    // which ends the job: no rank waits forever.
    Writer(MPI_Comm checkpointers, int local_roles, double timeout_seconds);

    // Adds one role's datasets (and, from the coordinator, the root attributes) to the
    // checkpoint `path`. The last local contribution writes the file; it blocks until
    // every rank of the communicator has joined, and throws if the write failed
    // anywhere (the previous checkpoint is untouched). Returns whether it wrote.
    bool contribute(const std::string& path, std::vector<io::Dataset> datasets,
                    const std::map<std::string, std::string>& attributes = {});

    double last_seconds() const { return last_seconds_; }
    double last_bytes() const { return last_bytes_; }  // this rank's share

private:
    MPI_Comm comm_;
    int local_roles_;
    double timeout_seconds_;
    int contributed_ = 0;
    std::string path_;
    std::vector<io::Dataset> datasets_;
    std::map<std::string, std::string> attributes_;
    double last_seconds_ = 0.0;
    double last_bytes_ = 0.0;
};

}  // namespace sgnn::checkpoint
