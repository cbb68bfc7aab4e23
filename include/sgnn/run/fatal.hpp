// How a rank ends the whole job on a fatal error: one line naming its role and rank,
// then MPI_Abort, the only reliable way to stop ranks that wait on this one. An error
// that is probably the echo of another rank's failure (sgnn::PeerError) waits 5 s
// first, so that the rank that failed first is the one that reports.
#pragma once

#include <exception>
#include <string>

namespace sgnn::run {

// The error's message as one line (LibTorch appends a backtrace), with advice on the
// options that decide memory use when it is an out-of-memory error.
std::string one_line_message(const std::exception& error);

[[noreturn]] void end_job(const std::exception& error, const std::string& role, int rank);

// How a rank ends the job when a stop signal found it where nothing can be saved
// (sgnn::StopRequested): one line from the first trainer (or the only process), then
// exit status 75 (checkpoint::kExitRequeue), through MPI_Abort when other ranks may wait on
// this one.
[[noreturn]] void end_job_stopped(const std::exception& stop, const std::string& role, int rank, int ranks);

}  // namespace sgnn::run
