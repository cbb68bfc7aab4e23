#include "sgnn/run/session.hpp"

#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/error.hpp"
#include "sgnn/run/fatal.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/stop.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace sgnn::run {
namespace {

// Rank as told by the launcher, before MPI is up.
bool launcher_rank_zero() {
    for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
        if (const char* value = std::getenv(name)) return std::string(value) == "0";
    }
    return true;
}

void print_error(const std::string& message) {
    std::fprintf(stderr, "sgnn: error: %s\n", message.c_str());
    std::fflush(stderr);
}

}  // namespace

Session::Session(std::vector<std::string> args, int* argc, char*** argv, ErrorAgreement agreement)
    : args_(std::move(args)), argc_(argc), argv_(argv), agreement_(agreement) {}

Session::~Session() {
    ode_runtime_.reset();  // PETSc finalizes before MPI
    mpi_.reset();
}

const comm::MpiSession& Session::start_mpi() {
    if (argc_ == nullptr) throw std::logic_error("a single-process command started MPI (its row in cli/commands.cpp)");
    if (!mpi_) {
        mpi_ = std::make_unique<comm::MpiSession>(argc_, argv_);
        ode_runtime_ = std::make_unique<sim::OdeRuntimeScope>();
    }
    return *mpi_;
}

bool Session::reports_errors() const { return mpi_ ? mpi_->world_rank() == 0 : launcher_rank_zero(); }

int run_guarded(Session& session, const std::function<int(Session&)>& command) {
    try {
        return command(session);
    } catch (const ConfigError& error) {
        const comm::MpiSession* mpi = session.mpi();
        if (mpi == nullptr || session.agreement().config_errors == Agreement::every_rank) {
            if (session.reports_errors()) print_error(error.what());
            return 2;
        }
        // Met on some ranks only, while the others may wait on them: rank 0 reports and
        // ends the job; another rank reports only if rank 0 did not end it first.
        if (mpi->world_rank() != 0) std::this_thread::sleep_for(std::chrono::seconds(5));
        print_error(error.what());
        if (mpi->world_size() > 1) MPI_Abort(MPI_COMM_WORLD, 2);
        return 2;
    } catch (const StopRequested& stop) {
        const comm::MpiSession* mpi = session.mpi();
        if (mpi == nullptr || session.agreement().stops == Agreement::every_rank) {
            if (session.reports_errors()) std::fprintf(stderr, "sgnn: %s\n", stop.what());
            return checkpoint::kExitRequeue;
        }
        // Before anything could be saved: the job just ends, as a stopped one does, and
        // a requeued job starts afresh.
        end_job_stopped(stop, session.role(), mpi->world_rank(), mpi->world_size());
    } catch (const std::exception& error) {
        const comm::MpiSession* mpi = session.mpi();
        if (mpi == nullptr) {
            print_error(one_line_message(error));
            return 1;
        }
        end_job(error, session.role(), mpi->world_rank());
    }
}

}  // namespace sgnn::run
