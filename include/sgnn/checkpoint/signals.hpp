// SIGTERM and SIGUSR1 mean "checkpoint, then stop": SLURM sends one of them before a
// job's time limit (#SBATCH --signal=B:USR1@120 plus a trap that forwards it) or on
// preemption. The handler only records the signal; the run loop turns it into a
// checkpoint request (coord/coordinator, train/trainer) and the process then exits with
// kExitRequeue, which a job script uses to requeue itself.
#pragma once

namespace sgnn::checkpoint {

// Exit status of a run that stopped on a signal after writing a checkpoint
// (EX_TEMPFAIL: "try again later"). Resume with `sgnn train --resume DIR`.
constexpr int kExitRequeue = 75;

void install_stop_signal_handlers();
// The first stop signal received (SIGTERM or SIGUSR1), or 0.
int pending_stop_signal();
const char* stop_signal_name(int signal_number);

}  // namespace sgnn::checkpoint
