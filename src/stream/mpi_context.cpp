#include "sgnn/stream/mpi_context.hpp"

#include "sgnn/error.hpp"
#include "sgnn/stream/backoff.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace sgnn::stream {

void check_mpi(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw PeerError(std::string(what) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
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

MpiSession::MpiSession(int* argc, char*** argv) {
    // Open MPI's MPI-IO (checkpoints, corpora) would otherwise try a shared-memory
    // shared file pointer for every file, which sgnn never uses and which prints an
    // error where the session directory cannot hold it. A user's setting wins.
    setenv("OMPI_MCA_sharedfp", "^sm", 0);
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    // Errors come back as codes so that check_mpi can turn them into one readable line.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (provided < MPI_THREAD_FUNNELED) {
        throw std::runtime_error("the MPI library does not provide MPI_THREAD_FUNNELED");
    }
}

MpiSession::~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

Communicators::Communicators(const RankLayout& layout, int world_rank) : rank_(world_rank) {
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &data_), "MPI_Comm_dup(data)");
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &control_), "MPI_Comm_dup(control)");
    const int color = layout.is_trainer(world_rank) ? 1 : MPI_UNDEFINED;
    const int key = layout.is_trainer(world_rank) ? layout.trainer_index(world_rank) : 0;
    check_mpi(MPI_Comm_split(MPI_COMM_WORLD, color, key, &trainers_), "MPI_Comm_split(trainers)");
    const bool checkpoints = world_rank == RankLayout::coordinator_rank() || layout.is_trainer(world_rank);
    check_mpi(MPI_Comm_split(MPI_COMM_WORLD, checkpoints ? 1 : MPI_UNDEFINED, world_rank, &checkpointers_),
              "MPI_Comm_split(checkpointers)");
    for (MPI_Comm comm : {data_, control_, trainers_, checkpointers_}) {
        if (comm != MPI_COMM_NULL) MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    }
}

Communicators::~Communicators() {
    for (MPI_Comm* comm : {&data_, &control_, &trainers_, &checkpointers_}) {
        if (*comm != MPI_COMM_NULL) MPI_Comm_free(comm);
    }
}

}  // namespace sgnn::stream
