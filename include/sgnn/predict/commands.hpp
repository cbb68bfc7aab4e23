// `sgnn predict`: what a trained network says about observed series. For each
// observation, the posterior mean, sd and central quantiles of every target (a flow or
// mixture head; a mean head gives the mean only), the mechanism probabilities of a
// mixture, and with --samples N that many posterior draws in HDF5.
#pragma once

#include "sgnn/run/session.hpp"

#include <string>
#include <vector>

namespace sgnn::predict {

// The quantiles every summary reports, in percent.
inline const std::vector<double>& summary_percentiles() {
    static const std::vector<double> levels{2.5, 5, 25, 50, 75, 95, 97.5};
    return levels;
}

// One process (under mpiexec with more ranks it refuses on every rank). It starts MPI
// first: the draws file is written through MPI-IO (io/h5_datasets.hpp), and PETSc
// would start MPI on its own for an ODE task.
// Everything it reads is the user's input, so a damaged file is a configuration
// error (exit 2) too.
int predict_command(run::Session& session);
constexpr run::ErrorAgreement kPredictAgreement{run::Agreement::every_rank, run::Agreement::every_rank};

}  // namespace sgnn::predict
