#include "sgnn/comm/mpi.hpp"

#include "sgnn/comm/backoff.hpp"
#include "sgnn/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace sgnn::comm {
namespace {

std::string error_text(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error code " + std::to_string(code);
    return std::string(text, static_cast<std::size_t>(length));
}

}  // namespace

void check_mpi(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    throw PeerError(std::string(what) + " failed: " + error_text(code));
}

void report_mpi(int code, const char* what) noexcept {
    if (code == MPI_SUCCESS) return;
    std::fprintf(stderr, "sgnn: warning: %s failed: %s\n", what, error_text(code).c_str());
}

int rank_in(MPI_Comm comm) {
    int rank = 0;
    check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    return rank;
}

int size_of(MPI_Comm comm) {
    int size = 1;
    check_mpi(MPI_Comm_size(comm, &size), "MPI_Comm_size");
    return size;
}

bool test_all(std::vector<MPI_Request>& requests, const char* what) {
    if (requests.empty()) return true;
    int done = 0;
    check_mpi(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), what);
    if (done) requests.clear();
    return done != 0;
}

void wait_all(std::vector<MPI_Request>& requests, const char* what) {
    Backoff backoff;
    while (!test_all(requests, what)) backoff.idle();
}

void cancel(MPI_Request& request, const char* what) noexcept {
    if (request == MPI_REQUEST_NULL) return;
    report_mpi(MPI_Cancel(&request), what);
    report_mpi(MPI_Wait(&request, MPI_STATUS_IGNORE), what);
}

void barrier(MPI_Comm comm, const char* what) {
    std::vector<MPI_Request> request(1);
    check_mpi(MPI_Ibarrier(comm, request.data()), what);
    wait_all(request, what);
}

std::string broadcast_text(MPI_Comm comm, std::string text, int root) {
    int length = static_cast<int>(text.size());
    check_mpi(MPI_Bcast(&length, 1, MPI_INT, root, comm), "MPI_Bcast(text length)");
    text.resize(static_cast<std::size_t>(length));
    check_mpi(MPI_Bcast(text.data(), length, MPI_CHAR, root, comm), "MPI_Bcast(text)");
    return text;
}

double max_over_ranks(MPI_Comm comm, double value, const char* what) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm), what);
    return value;
}

double sum_over_ranks(MPI_Comm comm, double value, const char* what) {
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_SUM, comm), what);
    return value;
}

bool agree_on_failure(MPI_Comm comm, std::string& error) {
    const int size = size_of(comm);
    int first = error.empty() ? size : rank_in(comm);
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce(failure agreement)");
    if (first == size) return false;
    error = broadcast_text(comm, error, first);
    return true;
}

void throw_agreed(MPI_Comm comm, const std::string& message) {
    // Rank 0 reports; the others' copies are echoes of the same failure.
    if (rank_in(comm) == 0) throw std::runtime_error(message);
    throw PeerError(message);
}

void throw_if_any_failed(MPI_Comm comm, std::string error) {
    if (agree_on_failure(comm, error)) throw_agreed(comm, error);
}

MpiSession::MpiSession(int* argc, char*** argv) {
    // Open MPI's MPI-IO (checkpoints, corpora) would otherwise try a shared-memory
    // shared file pointer for every file, which sgnn never uses and which prints an
    // error where the session directory cannot hold it. A user's setting wins.
    setenv("OMPI_MCA_sharedfp", "^sm", 0);
    int provided = 0;
    // Before MPI_Init errors are fatal by default: a failure here aborts in MPI.
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as codes so that check_mpi can turn them into one readable line.
    check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler(world)");
    rank_ = rank_in(MPI_COMM_WORLD);
    size_ = size_of(MPI_COMM_WORLD);
    if (provided < MPI_THREAD_FUNNELED) {
        throw std::runtime_error("the MPI library does not provide MPI_THREAD_FUNNELED");
    }
}

MpiSession::~MpiSession() {
    int finalized = 0;
    report_mpi(MPI_Finalized(&finalized), "MPI_Finalized");
    if (!finalized) report_mpi(MPI_Finalize(), "MPI_Finalize");
}

}  // namespace sgnn::comm
