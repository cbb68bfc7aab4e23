// What one invocation of an `sgnn` command runs in, and how it ends on an error.
//
// The front end (cli/commands.cpp) makes a Session for the command line and runs the
// command inside run_guarded. A command reads its options first (so that --help and
// option errors need no MPI), then calls start_mpi() if it needs ranks, and names this
// rank's role for error lines with set_role(). Commands do not catch errors to report
// them: they throw, and the guard ends the invocation the one way the error model
// (sgnn/error.hpp, sgnn/stop.hpp) says:
//
//   ConfigError      one line "sgnn: error: ..." from rank 0, exit 2 on every rank
//   StopRequested    one line, exit 75 (checkpoint::kExitRequeue), nothing half-written
//   anything else    the job-wide stop: one line naming role and rank, MPI_Abort
//
// Whether ranks meet an error together decides how they leave. Where every rank meets
// it alike (the declared Agreement), each rank returns the exit status and the job ends
// cleanly; where it may be met on some ranks only, the others may wait on them in a
// collective, so the job is ended through MPI_Abort with the same status.
#pragma once

#include "sgnn/comm/mpi.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::sim {
struct OdeRuntimeScope;
}

namespace sgnn::run {

// How the ranks of a command meet configuration errors and stop requests that are
// found after MPI started.
enum class Agreement {
    every_rank,  // found identically on every rank (checks on shared inputs, agreed stops)
    some_ranks,  // possibly found on some ranks only: the job is ended through MPI_Abort
};

struct ErrorAgreement {
    Agreement config_errors = Agreement::every_rank;
    Agreement stops = Agreement::every_rank;
};

class Session {
public:
    // argc and argv go to MPI_Init; nullptr for a command that never starts MPI.
    Session(std::vector<std::string> args, int* argc, char*** argv, ErrorAgreement agreement);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // The arguments after the command's name.
    const std::vector<std::string>& args() const { return args_; }

    // Starts MPI, then the ODE runtime inside it (PETSc, finalized before MPI). Once;
    // later calls return the same session.
    const comm::MpiSession& start_mpi();
    // Started MPI, or nullptr before start_mpi().
    const comm::MpiSession* mpi() const { return mpi_.get(); }

    // This rank's role for error lines ("coordinator", "trainer 2", "simulate").
    void set_role(std::string role) { role_ = std::move(role); }
    const std::string& role() const { return role_; }

    const ErrorAgreement& agreement() const { return agreement_; }

    // Whether this process prints errors that every rank meets alike: world rank 0, or
    // before MPI starts, the process the launcher numbers 0.
    bool reports_errors() const;

private:
    std::vector<std::string> args_;
    int* argc_;
    char*** argv_;
    ErrorAgreement agreement_;
    std::string role_;
    std::unique_ptr<comm::MpiSession> mpi_;
    std::unique_ptr<sim::OdeRuntimeScope> ode_runtime_;  // destroyed before mpi_
};

// Runs `command` and ends the invocation as the error model says (above); returns the
// process's exit status.
int run_guarded(Session& session, const std::function<int(Session&)>& command);

}  // namespace sgnn::run
