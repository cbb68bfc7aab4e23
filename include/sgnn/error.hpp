// Error types shared by every module.
//
// A ConfigError is the user's to fix (a bad key, value or layout): the program prints
// it as one line and exits with status 2 on every rank, without MPI_Abort. Anything
// else that escapes a rank is fatal and ends the whole job through MPI_Abort.
#pragma once

#include <stdexcept>
#include <string>

namespace sgnn {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A failure seen in communication with another rank (an MPI error, a corrupt or
// unexpected message). It is usually the echo of that rank's own fatal error, so the
// handler waits a moment before reporting it: if the job is already being torn down,
// only the original error gets printed.
class PeerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace sgnn
