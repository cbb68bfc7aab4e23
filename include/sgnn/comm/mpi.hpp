// MPI at the bottom of sgnn: start-up, checked calls and the few collective idioms
// every module needs. Every MPI call in sgnn goes through check_mpi (or report_mpi
// where nothing may throw), so a failure becomes one readable line instead of a code
// nobody looks at; tests/lint/unchecked_mpi.py keeps it so. Communicators run with
// MPI_ERRORS_RETURN (set here for MPI_COMM_WORLD, by their creators for the others),
// which is what makes the codes worth checking.
//
// Waits never block inside MPI: they test and back off (comm/backoff.hpp), so a rank
// stays responsive to stops and errors and leaves shared cores to busy ranks.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace sgnn::comm {

// Owns MPI_Init_thread/MPI_Finalize. FUNNELED: only the main thread calls MPI (CPU
// autograd runs gradient hooks on the calling thread).
class MpiSession {
public:
    MpiSession(int* argc, char*** argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    int world_rank() const { return rank_; }
    int world_size() const { return size_; }

private:
    int rank_ = 0;
    int size_ = 1;
};

// Throws PeerError "WHAT failed: <MPI's own error text>" unless `code` is MPI_SUCCESS.
// PeerError, because an MPI failure on one rank is usually the echo of another rank's.
void check_mpi(int code, const char* what);

// For destructors and clean-up after an error, where throwing would hide the first
// failure or terminate: prints one warning line on failure and carries on.
void report_mpi(int code, const char* what) noexcept;

// This rank's number and the size of `comm` (checked).
int rank_in(MPI_Comm comm);
int size_of(MPI_Comm comm);

// True (and `requests` emptied) once every request has completed; never blocks.
bool test_all(std::vector<MPI_Request>& requests, const char* what);
// Waits for every request by testing with backoff, never in a blocking MPI wait.
void wait_all(std::vector<MPI_Request>& requests, const char* what);
// Withdraws a pending receive or send (one whose peer has finished) and completes it;
// a request that completed meanwhile is just completed. For shutdown paths: never
// throws.
void cancel(MPI_Request& request, const char* what) noexcept;
// A polling barrier: blocking barriers spin and would steal a shared core.
void barrier(MPI_Comm comm, const char* what);

// `root`'s text on every rank of `comm`.
std::string broadcast_text(MPI_Comm comm, std::string text, int root = 0);

// The largest and the sum of a value over the ranks of `comm`, on every rank.
double max_over_ranks(MPI_Comm comm, double value, const char* what);
double sum_over_ranks(MPI_Comm comm, double value, const char* what);

// Did any rank fail? Each rank passes its own error ("" for none). Returns false when
// none failed; otherwise true, with `error` set on every rank to the message of the
// lowest failing rank, so that all ranks leave a collective operation together.
bool agree_on_failure(MPI_Comm comm, std::string& error);
// Throws the agreed message: runtime_error on rank 0 of `comm`, which reports it, and
// PeerError (an echo) on the others.
[[noreturn]] void throw_agreed(MPI_Comm comm, const std::string& message);
// agree_on_failure, then throw_agreed if any rank failed.
void throw_if_any_failed(MPI_Comm comm, std::string error);

}  // namespace sgnn::comm
