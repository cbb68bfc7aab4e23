// `sgnn experiment NAME --scale quick|paper`: the paper-figure runs, each one command
// that simulates, trains, evaluates against its baseline and writes CSV tables, PNG
// figures and summary.json (docs/results.md).
#pragma once

#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/analysis/logistic_posterior.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/run/session.hpp"
#include "sgnn/sim/random.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/communicators.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sgnn::sim {
class Task;
}

namespace sgnn::experiments {

// An experiment's ranks talk from the start, so a configuration problem or a stop may
// be met on some ranks only: the guard then ends them all (run/session.hpp).
int experiment_command(run::Session& session);
constexpr run::ErrorAgreement kExperimentAgreement{run::Agreement::some_ranks, run::Agreement::some_ranks};

// What every experiment gets: its options (the run's and experiment.*), the scale and
// the output directory (created; every file in it is written atomically).
struct ExperimentContext {
    std::string name;
    std::string scale;  // quick or paper
    std::string out;
    config::ParsedOptions options;
    std::vector<std::string> args;  // the command line after NAME, --config included
    run::RunConfig run;             // the training settings the config file gives
    const comm::MpiSession* mpi = nullptr;
    bool is_root() const { return mpi->world_rank() == 0; }
    // experiment.<key>, or experiment.quick_<key> at quick scale when that exists.
    std::string scaled_key(const std::string& key) const;
};

// Runs scripts/plot_experiment.py NAME OUT (Debian's matplotlib); returns the figures
// it wrote, relative to OUT. A missing matplotlib is reported, not fatal.
std::vector<std::string> draw_figures(const std::string& name, const std::string& out);

// The experiment.* options (shown by sgnn experiment --help).
const std::vector<config::OptionSpec>& experiment_options();

// configs/paper/NAME.cfg as installed with sgnn (io/installation.hpp), or else relative
// to the working directory.
std::string paper_config(const std::string& name);

// Trains an SGNN on streamed simulations into `dir` (model.h5 and the run's files),
// with one trainer so that the model does not depend on the rank count; every rank
// takes part (simulators, coordinator). Returns the wall seconds, printed on rank 0.
double train_streamed(const ExperimentContext& context, run::RunConfig run, const std::string& dir, std::int64_t steps);

// data/..., configs/... or scripts/... as installed with sgnn, or else relative to the
// working directory; ConfigError when neither has it.
std::string shipped_file(const std::string& relative);

// C2ST (scripts/c2st.py, the SBI benchmark's metric) of each (reference, samples) pair
// of CSV files, in order, from one child process running `jobs` classifiers at a time.
// The pairs are listed in `list_file` (the scores land beside it). A reference longer
// than its samples is cut to their size. Throws naming the script's error.
std::vector<double> c2st_scores(const std::vector<std::pair<std::string, std::string>>& pairs,
                                const std::string& list_file, int jobs);

// Classifiers at a time for one rank: this node's cores shared among its ranks.
int c2st_jobs(const comm::MpiSession& mpi);

// The exact-posterior setup of a logistic-growth task (posterior-mean, attribution);
// throws ConfigError naming the key if the task is not the one it integrates.
analysis::LogisticPosteriorSetup logistic_posterior_setup(const ExperimentContext& context);

// {"estimate", "low", "high"} of an interval.
io::Json interval_json(const analysis::Interval& interval);

// The valid samples among first..first+count-1 of a stream, packed in index order.
struct DrawnSamples {
    std::vector<float> inputs;   // count x n_inputs, as the network sees them
    std::vector<float> targets;  // count x n_targets
    std::vector<float> labels;
    int count = 0;  // how many were valid
};
DrawnSamples draw_samples(const sim::Task& task, std::uint64_t seed, sim::Purpose purpose, std::uint64_t first,
                          int count);

// The reported counts of sample j, read back from its log1p inputs (float32 on the
// way, so rounded to the integers they were).
std::vector<double> observed_counts(const DrawnSamples& samples, int j, int days);

// Checks that the task is the one the daily-SIR likelihood fits model: sim.model = sir
// in daily steps, R0 drawn and learned, obs.steps = report,negbin, log1p inputs, a
// fixed population. Returns the population; throws ConfigError naming the key.
double daily_sir_population(const sim::TaskConfig& task, const std::string& experiment);

// Runs work(j) for the j in [0, count) this rank owns (j mod ranks), printing progress
// with rate and ETA on rank 0 every 15 s; results meet with reduce_to_root.
void for_my_series(int count, const comm::MpiSession& mpi, const std::string& what,
                   const std::function<void(int)>& work);

// Sums a table every rank filled in part (zeros elsewhere) into rank 0.
void reduce_to_root(std::vector<double>& values, const comm::MpiSession& mpi);

// One experiment: runs on every rank, returns summary.json's headline content on rank 0.
io::Json run_posterior_mean(ExperimentContext& context);
io::Json run_model_selection(ExperimentContext& context);
io::Json run_attribution(ExperimentContext& context);
io::Json run_unobservable(ExperimentContext& context);
io::Json run_mismatch(ExperimentContext& context);
io::Json run_sbibm(ExperimentContext& context);

}  // namespace sgnn::experiments
