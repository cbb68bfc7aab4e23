#include "sgnn/experiments/harness.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/directory_lock.hpp"
#include "sgnn/io/installation.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/io/subprocess.hpp"
#include "sgnn/run/fatal.hpp"
#include "sgnn/run/run.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

namespace sgnn::experiments {
namespace {

const char* kHelp = R"TXT(sgnn experiment - paper-figure runs of simulation-grounded learning

  sgnn experiment NAME --scale quick|paper [--out DIR] [--config FILE] [options]

Each experiment is one command: it simulates, trains, evaluates against its exact or
classical baseline on the same held-out series, and writes CSV tables, PNG figures
(matplotlib, scripts/plot_experiment.py) and summary.json with the headline numbers,
bootstrap 95% intervals, the config hash and the git commit. The settings come from
configs/paper/NAME.cfg; --scale quick uses its experiment.quick_* values (minutes on a
laptop), --scale paper the others (a cluster: jobs/paper/NAME.sbatch).

Experiments:
  posterior-mean   an SGNN trained on 1e3..1e6 simulations converges to the exact
                   posterior mean of a logistic growth curve's carrying capacity K
                   (quadrature of the exact likelihood); excess risk against budget
  model-selection  an SGNN classifier tells SIR from SEIR (and logistic from Gompertz
                   growth) against AIC and BIC from TAO maximum-likelihood fits on the
                   same balanced held-out series; calibration and diagnostics
  attribution      the k = sqrt(N) nearest simulations of a memory bank of N, in the
                   SGNN's embedding, approach the exact posterior of K as N grows
                   (Wasserstein-1); mechanism shares among neighbours against the
                   classifier's probabilities
  mismatch         an SGNN trained on one simulator, tested where reality drifts
                   (Gillespie dynamics, reporting, overdispersion, delays): risk of a
                   clipped loss within R_syn + M TV, TV from a classifier two-sample
                   test; an SIR likelihood fit under the same shifts
  unobservable     R0, never observed, from the first 14-40 days of an outbreak: the
                   SGNN against the exponential-growth-rate method and an SIR
                   maximum-likelihood fit on the same series (MSE, MAPE)
  sbibm            amortized posteriors (model.head = flow) on the SBI benchmark's SIR
                   and Lotka-Volterra tasks, trained on 1e3..1e5 simulations as corpora
                   and 1e6..1e7 streamed, scored by C2ST against the benchmark's
                   reference posteriors beside its published NPE, SNPE, SNLE and SNRE

Sample runs:
  build/sgnn experiment posterior-mean --scale quick --out runs/pm
  mpiexec -n 5 build/sgnn experiment posterior-mean --scale paper --out runs/pm-paper
  build/sgnn experiment posterior-mean --scale quick --experiment.test_series 500
  mpiexec -n 2 build/sgnn experiment model-selection --scale quick --out runs/ms
  build/sgnn experiment sbibm --scale quick --out runs/sbibm

Outputs in --out (default runs/NAME-SCALE): config.ini (every option, experiment.*
included), summary.json (claims_hold says whether each headline inequality holds),
CSV tables, PNG figures, and one training run directory per trained network.
)TXT";

// A child's standard output, trailing blanks trimmed ("" when it could not run or failed).
std::string command_output(const std::vector<std::string>& argv, io::ChildStderr stderr_mode) {
    const io::ProcessResult result = io::run_process(argv, stderr_mode);
    std::string text = result.output;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

}  // namespace

std::vector<std::string> draw_figures(const std::string& name, const std::string& out) {
    const std::string script = io::installed_file("scripts/plot_experiment.py");
    if (script.empty()) {
        std::printf(
            "[sgnn] plotting: no figures: share/sgnn/scripts/plot_experiment.py is not installed with this sgnn\n");
        return {};
    }
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const std::string listed = command_output({python, script, name, out}, io::ChildStderr::merge);
    std::vector<std::string> figures;
    std::size_t at = 0;
    while (at < listed.size()) {
        const std::size_t end = listed.find('\n', at);
        const std::string line = listed.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (line.rfind("figure ", 0) == 0) {
            figures.push_back(line.substr(7));
        } else if (!line.empty()) {
            std::printf("[sgnn] plotting: %s\n", line.c_str());
        }
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return figures;
}

std::string paper_config(const std::string& name) {
    const std::string installed = io::installed_file("configs/paper/" + name + ".cfg");
    return installed.empty() ? "configs/paper/" + name + ".cfg" : installed;
}

// The quadrature needs the task the config describes to be the one it integrates.
analysis::LogisticPosteriorSetup logistic_posterior_setup(const ExperimentContext& context) {
    const sim::TaskConfig& task = context.run.task;
    const auto require = [&](bool ok, const std::string& key, const std::string& what) {
        if (!ok)
            throw ConfigError(key + ": the " + context.name + " experiment integrates the exact posterior of " + what);
    };
    require(task.model == "logistic", "sim.model", "logistic growth (sim.model = logistic)");
    require(task.observation == std::vector<std::string>{"lognormal"}, "obs.steps",
            "log-normal noise (obs.steps = lognormal)");
    require(task.targets == std::vector<std::string>{"carrying_capacity"}, "sim.targets",
            "K (sim.targets = carrying_capacity)");
    const auto prior = [&](const std::string& name, sim::ParameterPrior::Kind kind, const std::string& form) {
        const sim::ParameterPrior p =
            sim::ParameterPrior::parse("prior." + name, task.priors.at(name), sim::parameter_spec(name).domain);
        require(p.kind() == kind, "prior." + name, "a model with prior." + name + " = " + form);
        return p.arguments();
    };
    using Kind = sim::ParameterPrior::Kind;
    analysis::LogisticPosteriorSetup setup;
    const auto r = prior("intrinsic_growth_rate", Kind::loguniform, "loguniform(A, B)");
    const auto k = prior("carrying_capacity", Kind::loguniform, "loguniform(A, B)");
    setup.r_low = r[0], setup.r_high = r[1], setup.k_low = k[0], setup.k_high = k[1];
    setup.initial_size = prior("initial_size", Kind::fixed, "fixed(V)")[0];
    setup.sdlog = prior("noise_sdlog", Kind::fixed, "fixed(V)")[0];
    require(task.transform == "log1p", "obs.transform", "series fed to the network as log1p (obs.transform = log1p)");
    setup.days = task.days;
    setup.grid = config::OptionReader(context.options, experiment_options()).small_integer("experiment.grid");
    return setup;
}

io::Json interval_json(const analysis::Interval& i) {
    return {{"estimate", i.estimate}, {"low", i.low}, {"high", i.high}};
}

double train_streamed(const ExperimentContext& context, run::RunConfig run, const std::string& dir,
                      std::int64_t steps) {
    const auto started = std::chrono::steady_clock::now();
    run.out = dir;
    run.trainers = 1;
    run.train.steps = steps;
    run.train.eval_every = steps;
    run.checkpoint_minutes = 0;
    run.train.optimizer.warmup_steps = std::min(run.train.optimizer.warmup_steps, steps / 10);
    run::RunOptions quiet;
    quiet.quiet = true;
    quiet.replace_earlier_run = true;  // the experiment's own sub-run, from an earlier invocation
    run::run_training(run, *context.mpi, quiet);
    const double seconds = seconds_since(started);
    if (context.is_root()) {
        std::printf("[sgnn]   SGNN: %lld steps of %d samples in %s\n", static_cast<long long>(steps),
                    run.stream.batch_size, coord::format_duration(seconds).c_str());
        std::fflush(stdout);
    }
    return seconds;
}

void reduce_to_root(std::vector<double>& values, const comm::MpiSession& mpi) {
    if (mpi.world_size() == 1) return;
    if (mpi.world_rank() == 0) {
        comm::check_mpi(MPI_Reduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, 0,
                                   MPI_COMM_WORLD),
                        "MPI_Reduce(experiment table)");
    } else {
        comm::check_mpi(
            MPI_Reduce(values.data(), nullptr, static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD),
            "MPI_Reduce(experiment table)");
    }
}

void for_my_series(int count, const comm::MpiSession& mpi, const std::string& what,
                   const std::function<void(int)>& work) {
    const int rank = mpi.world_rank(), ranks = mpi.world_size();
    const auto started = std::chrono::steady_clock::now();
    auto last = started;
    const int mine = (count - rank + ranks - 1) / ranks;
    int done = 0;
    for (int j = rank; j < count; j += ranks) {
        work(j);
        ++done;
        const auto now = std::chrono::steady_clock::now();
        if (rank == 0 && std::chrono::duration<double>(now - last).count() > 15.0) {
            last = now;
            const double elapsed = seconds_since(started), rate = done / elapsed;
            std::printf("[sgnn]   %s: %d/%d series on rank 0 (%d ranks), %.1f series/s, ETA %s\n", what.c_str(), done,
                        mine, ranks, rate, coord::format_duration((mine - done) / rate).c_str());
            std::fflush(stdout);
        }
    }
}

std::vector<double> observed_counts(const DrawnSamples& samples, int j, int days) {
    std::vector<double> y(static_cast<std::size_t>(days));
    const float* row = samples.inputs.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(days);
    for (int t = 0; t < days; ++t) y[static_cast<std::size_t>(t)] = std::round(std::expm1(static_cast<double>(row[t])));
    return y;
}

double daily_sir_population(const sim::TaskConfig& task, const std::string& experiment) {
    const auto require = [&](bool ok, const std::string& key, const std::string& what) {
        if (!ok) throw ConfigError(key + ": the " + experiment + " experiment " + what);
    };
    require(task.model == "sir" && task.options.steps_per_day == 1, "sim.model",
            "fits the daily chain-binomial SIR (sim.model = sir, sim.steps_per_day = 1)");
    require(task.targets == std::vector<std::string>{"R0"}, "sim.targets", "learns R0 (sim.targets = R0)");
    require(task.observation == std::vector<std::string>{"report", "negbin"}, "obs.steps",
            "fits negative-binomial likelihoods to thinned counts (obs.steps = report,negbin)");
    require(task.options.parameterize_by == "R0", "sim.parameterize_by", "draws R0 from its prior");
    require(task.transform == "log1p", "obs.transform", "reads counts back from log1p inputs (obs.transform = log1p)");
    const auto it = task.priors.find("population");
    const sim::ParameterSpec& spec = sim::parameter_spec("population");
    const sim::ParameterPrior population = sim::ParameterPrior::parse(
        "prior.population", it == task.priors.end() ? spec.default_prior : it->second, spec.domain);
    require(population.kind() == sim::ParameterPrior::Kind::fixed, "prior.population",
            "gives the likelihood fit the population size: use fixed(N)");
    return population.arguments()[0];
}

DrawnSamples draw_samples(const sim::Task& task, std::uint64_t seed, sim::Purpose purpose, std::uint64_t first,
                          int count) {
    const sim::SampleLayout& layout = task.layout();
    DrawnSamples d;
    d.inputs.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(layout.n_inputs));
    d.targets.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(std::max(1, layout.n_targets())));
    d.labels.resize(static_cast<std::size_t>(count));
    std::vector<std::uint64_t> indices(static_cast<std::size_t>(count));
    const sim::GenerateResult made = sim::generate_samples(
        task, seed, purpose, first, count, 1.0,
        {indices.data(), d.inputs.data(), d.targets.data(), d.labels.data(), count}, omp_get_max_threads());
    d.count = made.valid;
    d.inputs.resize(static_cast<std::size_t>(d.count) * static_cast<std::size_t>(layout.n_inputs));
    d.targets.resize(static_cast<std::size_t>(d.count) * static_cast<std::size_t>(std::max(1, layout.n_targets())));
    d.labels.resize(static_cast<std::size_t>(d.count));
    return d;
}

std::string shipped_file(const std::string& relative) {
    const std::string installed = io::installed_file(relative);
    if (!installed.empty()) return installed;
    if (std::filesystem::exists(relative)) return relative;
    throw ConfigError(relative + ": not found with this sgnn (share/sgnn/) nor in the working directory");
}

std::vector<double> c2st_scores(const std::vector<std::pair<std::string, std::string>>& pairs,
                                const std::string& list_file, int jobs) {
    std::string list = "reference,samples\n";
    const auto quoted = [](const std::string& path) {  // CSV quoting: a path may hold a comma
        std::string cell = "\"";
        for (char c : path) cell += c == '"' ? std::string("\"\"") : std::string(1, c);
        return cell + "\"";
    };
    for (const auto& [reference, samples] : pairs) list += quoted(reference) + "," + quoted(samples) + "\n";
    io::write_file_atomically(list_file, list);
    const std::string script = shipped_file("scripts/c2st.py");
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const std::string scores_file = list_file + ".scores.csv";
    const io::ProcessResult result =
        io::run_process({python, script, "--batch", list_file, "--out", scores_file, "--jobs", std::to_string(jobs)},
                        io::ChildStderr::merge);
    if (!result.started || result.exit_code != 0) {
        throw std::runtime_error("scripts/c2st.py --batch " + list_file + " failed (exit " +
                                 std::to_string(result.exit_code) + "): " + printable(result.output, 600) +
                                 " (it needs Debian's python3-sklearn: make deps)");
    }
    std::ifstream in(scores_file);
    std::string line;
    std::getline(in, line);
    std::vector<double> scores;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::size_t comma = line.rfind(',');
        double score = 0.0;
        if (comma == std::string::npos || !parse_decimal(line.substr(comma + 1), score))
            throw std::runtime_error(scores_file + ": unreadable row '" + printable(line) + "'");
        scores.push_back(score);
    }
    if (scores.size() != pairs.size()) {
        throw std::runtime_error(scores_file + ": " + std::to_string(scores.size()) + " scores for " +
                                 std::to_string(pairs.size()) + " pairs");
    }
    return scores;
}

int c2st_jobs(const comm::MpiSession& mpi) {
    if (mpi.world_size() == 1) return std::max(1, omp_get_num_procs());
    MPI_Comm node;
    comm::check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
                    "MPI_Comm_split_type");
    int size = 1;
    comm::check_mpi(MPI_Comm_size(node, &size), "MPI_Comm_size");
    comm::check_mpi(MPI_Comm_free(&node), "MPI_Comm_free");
    return std::max(1, omp_get_num_procs() / size);
}

std::string ExperimentContext::scaled_key(const std::string& key) const {
    std::string quick = "experiment.quick_" + key;
    if (scale == "quick" && options.values.count(quick)) return quick;
    return "experiment." + key;
}

const std::vector<config::OptionSpec>& experiment_options() {
    using Type = config::OptionSpec::Type;
    static const std::vector<config::OptionSpec> specs = [] {
        std::vector<config::OptionSpec> all = run::run_options();
        const std::vector<config::OptionSpec> mine = {
            {"experiment.budgets", Type::text, "1000,10000,100000,1000000",
             "simulation budgets at paper scale: the number of distinct simulations each network trains on"},
            {"experiment.quick_budgets", Type::text, "1000,10000,100000", "simulation budgets at quick scale"},
            {"experiment.test_series", Type::integer, "2000", "held-out test series, from their own random stream", 10,
             1e8},
            {"experiment.quick_test_series", Type::integer, "2000", "held-out test series at quick scale", 10, 1e8},
            {"experiment.epochs", Type::real, "30",
             "passes over a budget's simulations (training steps = epochs x budget / global batch, then clamped)", 0.01,
             1e6},
            {"experiment.min_steps", Type::integer, "500", "fewest training steps for any budget", 1, 1e9},
            {"experiment.max_steps", Type::integer, "20000", "most training steps for any budget", 1, 1e9},
            {"experiment.quick_max_steps", Type::integer, "4000", "most training steps at quick scale", 1, 1e9},
            {"experiment.flow_check", Type::boolean, "true",
             "posterior-mean: also train a flow (model.head = flow) on the largest budget's corpus and score its "
             "posterior of K against the exact one (coverage of central intervals, C2ST)"},
            {"experiment.coverage_draws", Type::integer, "1000",
             "posterior-mean: flow draws per held-out series for the central intervals whose exact mass is measured",
             10, 100000},
            {"experiment.c2st_series", Type::integer, "10",
             "posterior-mean: held-out series whose flow draws are scored by C2ST against exact posterior draws", 0,
             1000},
            {"experiment.quick_c2st_series", Type::integer, "10", "the same at quick scale", 0, 1000},
            {"experiment.grid", Type::integer, "150",
             "quadrature points per axis and pass for exact posteriors (two passes: prior box, then where the mass is)",
             10, 10000},
            {"experiment.bootstrap", Type::integer, "1000", "bootstrap resamples for the 95% intervals", 10, 1e6},
            {"experiment.keep_corpora", Type::boolean, "false", "keep each budget's corpus.h5 (they can be large)"},
            {"experiment.steps", Type::integer, "30000", "training steps of a streamed SGNN (model-selection)", 1, 1e9},
            {"experiment.quick_steps", Type::integer, "8000", "training steps at quick scale", 1, 1e9},
            {"experiment.extra_pair_steps", Type::integer, "30000",
             "training steps of the SGNNs of experiment.extra_pairs (model-selection)", 1, 1e9},
            {"experiment.quick_extra_pair_steps", Type::integer, "4000", "the same at quick scale", 1, 1e9},
            {"experiment.large_test_series", Type::integer, "20000",
             "series of a separate large set the SGNN alone is scored on (is the test set lucky?)", 10, 1e8},
            {"experiment.quick_large_test_series", Type::integer, "20000", "the large set at quick scale", 10, 1e8},
            {"experiment.ode_fit_series", Type::integer, "2000",
             "test series also fitted with continuous ODE means (the second AIC; epidemic pairs)", 0, 1e8},
            {"experiment.quick_ode_fit_series", Type::integer, "100", "ODE-mean fits at quick scale", 0, 1e8},
            {"experiment.optimizer_check_series", Type::integer, "200",
             "series drawn from the fitted mean models themselves, whose fits must reach the truth's likelihood", 0,
             1e8},
            {"experiment.quick_optimizer_check_series", Type::integer, "40", "optimizer checks at quick scale", 0, 1e8},
            {"experiment.feature_train_series", Type::integer, "20000",
             "training simulations of the two-feature classifier (peak day, log total)", 10, 1e8},
            {"experiment.restarts", Type::integer, "5",
             "random starts per likelihood fit (plus 3 cross-starts from each other model's best fit)", 1, 1000},
            {"experiment.extra_pairs", Type::text, "model-selection-shared-r0,model-selection-growth",
             "more model pairs, each a config in configs/paper/ (model-selection)"},
            {"experiment.quick_extra_pairs", Type::text, "model-selection-growth", "extra pairs at quick scale"},
            {"experiment.families", Type::text, "dynamics,reporting,overdispersion,delay",
             "families of drift from the training distribution (mismatch): dynamics (a share of exact Gillespie "
             "series), reporting (lower reporting rates), overdispersion (more negative-binomial noise), delay "
             "(a reporting delay)"},
            {"experiment.levels", Type::text, "0,0.25,0.5,0.75,1", "mismatch levels from 0 (training) to 1"},
            {"experiment.quick_levels", Type::text, "0,0.5,1", "mismatch levels at quick scale"},
            {"experiment.loss_bound", Type::real, "1",
             "M: the squared loss is clipped at M, so the risk is bounded "
             "(mismatch)",
             1e-9, 1e9},
            {"experiment.two_sample_ridge", Type::real, "0.001",
             "ridge penalty of the two-sample classifier (logistic regression on the embedding)", 0, 1e6},
            {"experiment.windows", Type::text, "14,21,28,40",
             "observation windows in days from the first report; one SGNN and one set of fits each (unobservable)"},
            {"experiment.quick_windows", Type::text, "14,28,40", "windows at quick scale"},
            {"experiment.bank_sizes", Type::text, "1000,10000,100000,1000000",
             "memory-bank sizes N (nested: the first N simulations of the bank stream); k = sqrt(N) neighbours "
             "(attribution)"},
            {"experiment.quick_bank_sizes", Type::text, "1000,10000,100000", "bank sizes at quick scale"},
            {"experiment.tasks", Type::text, "sir,lotka_volterra",
             "the SBI benchmark's tasks, each configs/sbibm/NAME.cfg under the experiment's settings (sbibm)"},
            {"experiment.streamed_budgets", Type::text, "1000000,10000000",
             "budgets of fresh simulations streamed once, after the corpus budgets of experiment.budgets (sbibm)"},
            {"experiment.quick_streamed_budgets", Type::text, "", "streamed budgets at quick scale (empty: none)"},
            {"experiment.observations", Type::text, "1,2,3,4,5", "the benchmark's observations to score (sbibm)"},
            {"experiment.quick_observations", Type::text, "1,2,3,4,5", "observations at quick scale"},
            {"experiment.posterior_draws", Type::integer, "10000",
             "posterior draws per observation, scored by C2ST against as many of the benchmark's reference draws "
             "(sbibm), or per held-out series against as many exact posterior draws (posterior-mean's flow)",
             10, 10000},
            {"experiment.quick_posterior_draws", Type::integer, "10000", "posterior draws at quick scale", 10, 10000},
            {"experiment.mechanism_pair", Type::text, "model-selection",
             "config in configs/paper/ of a two-mechanism mixture whose classifier's probabilities are compared with "
             "the mechanism shares among neighbours (attribution; empty: skip)"},
            {"experiment.mechanism_bank", Type::integer, "100000", "bank size for the mechanism comparison", 16, 2e7},
            {"experiment.quick_mechanism_bank", Type::integer, "20000", "the same at quick scale", 16, 2e7},
            {"experiment.mechanism_steps", Type::integer, "30000", "training steps of the mechanism classifier", 1,
             1e9},
            {"experiment.quick_mechanism_steps", Type::integer, "4000", "the same at quick scale", 1, 1e9},
        };
        all.insert(all.end(), mine.begin(), mine.end());
        return all;
    }();
    return specs;
}

// The flags of `sgnn experiment NAME`, beside the run's options of experiment_options().
std::vector<config::OptionSpec> experiment_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"scale", Type::choice, "quick", "quick or paper", 0, 0, {"quick", "paper"}},
        {"out", Type::text, "", "the experiment's folder (default runs/NAME-SCALE)"},
    };
}

int experiment_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::printf("%s%s", kHelp, config::options_help(experiment_options()).c_str());
        return args.empty() ? 2 : 0;
    }
    ExperimentContext context;
    context.name = args[0];
    args.erase(args.begin());
    const std::map<std::string, io::Json (*)(ExperimentContext&)> experiments = {
        {"posterior-mean", run_posterior_mean},
        {"model-selection", run_model_selection},
        {"attribution", run_attribution},
        {"unobservable", run_unobservable},
        {"mismatch", run_mismatch},
        {"sbibm", run_sbibm}};
    {
        if (experiments.count(context.name) == 0) {
            throw ConfigError("unknown experiment '" + context.name + "'; sgnn experiment --help lists them");
        }
        const config::CommandFlags flags(args, experiment_flags());
        context.scale = flags.choice("scale");
        const std::string out = flags.text("out");
        context.out = out.empty() ? "runs/" + context.name + "-" + context.scale : out;
        bool has_config = false;
        for (const auto& a : args) has_config |= a == "--config" || a.rfind("--config=", 0) == 0;
        if (!has_config) {
            args.push_back("--config");
            args.push_back(paper_config(context.name));
        }
        context.args = args;
        context.options = config::parse_options(args, experiment_options());
        if (context.options.help) {
            std::printf("%s%s", kHelp, config::options_help(experiment_options()).c_str());
            return 0;
        }
        context.run = run::make_run_config(context.options);
    }

    const comm::MpiSession& mpi = session.start_mpi();
    session.set_role("experiment " + context.name);
    context.mpi = &mpi;
    {
        const auto started = std::chrono::steady_clock::now();
        const std::string config_ini = config::effective_ini(context.options, experiment_options());
        std::unique_ptr<io::DirectoryLock> lock;  // one experiment at a time in --out
        if (context.is_root()) {
            io::make_directories(context.out);
            lock = std::make_unique<io::DirectoryLock>(context.out, "--out");
            io::write_file_atomically(context.out + "/config.ini", config_ini);
            std::printf("[sgnn] experiment %s at %s scale: outputs in %s\n", context.name.c_str(),
                        context.scale.c_str(), context.out.c_str());
            std::fflush(stdout);
        }
        io::Json results = experiments.at(context.name)(context);
        if (context.is_root()) {
            io::Json summary = {{"experiment", context.name},
                                {"scale", context.scale},
                                {"config_sha256", io::sha256_hex(config_ini)},
                                {"git_commit", io::build_commit()},
                                {"sgnn_version", SGNN_VERSION},
                                {"ranks", mpi.world_size()},
                                {"wall_seconds", seconds_since(started)}};
            for (auto& [key, value] : results.items()) summary[key] = value;
            summary["figures"] = draw_figures(context.name, context.out);
            io::write_json_file(context.out + "/summary.json", summary);
            std::printf("[sgnn] experiment %s done in %s; claims hold: %s; outputs in %s\n", context.name.c_str(),
                        coord::format_duration(seconds_since(started)).c_str(), summary["claims_hold"].dump().c_str(),
                        context.out.c_str());
            std::fflush(stdout);
        }
    }
    return 0;
}

}  // namespace sgnn::experiments
