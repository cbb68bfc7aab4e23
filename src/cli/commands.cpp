#include "sgnn/cli/commands.hpp"

#include "sgnn/cli/attribute.hpp"
#include "sgnn/cli/bench_corpus.hpp"
#include "sgnn/cli/bench_simulate.hpp"
#include "sgnn/cli/experiment.hpp"
#include "sgnn/cli/fatal.hpp"
#include "sgnn/cli/options.hpp"
#include "sgnn/cli/run.hpp"
#include "sgnn/cli/simulate.hpp"
#include "sgnn/cli/sweep.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/coord/checkpoint.hpp"
#include "sgnn/coord/signals.hpp"
#include "sgnn/error.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/text.hpp"
#include "sgnn/io/corpus_file.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/simulator_worker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace sgnn::cli {
namespace {

const char* kOverview = R"TXT(sgnn - simulation-grounded neural networks on MPI clusters

Trains neural networks only on synthetic data from mechanistic simulators. Simulator
ranks stream batches to data-parallel trainer ranks under credit flow control; a
coordinator rank owns the prior schedule, evaluation, progress and outputs.

Usage: sgnn <command> [options]

Commands:
  train       train a network on streamed simulations       (sgnn train --help)
  simulate    write a synthetic corpus to one HDF5 file     (sgnn simulate --help)
  experiment  paper-figure runs: baselines, tables, PNGs    (sgnn experiment --help)
  bank        embed simulations into a memory bank          (sgnn bank --help)
  attribute   explain an observation by nearest simulations (sgnn attribute --help)
  sweep       parameter grids for SLURM job arrays          (sgnn sweep --help)
  bench       pipeline, simulator and corpus throughput     (sgnn bench --help)
  list        list simulators, models or options            (sgnn list --help)

Sample runs:
  build/sgnn train --config configs/quickstart.cfg                 # one process, every role
  mpiexec -n 4 --oversubscribe build/sgnn train --config configs/quickstart.cfg
                                                                   # 1 coordinator, 1 trainer, 2 simulators
  mpiexec -n 8 build/sgnn train --config configs/quickstart.cfg --trainers 2 --deterministic
  mpiexec -n 8 build/sgnn train --resume runs/qs                  # continue from the newest checkpoint
  mpiexec -n 4 build/sgnn simulate --config configs/quickstart.cfg --samples 1e6 --out corpus.h5
  build/sgnn experiment posterior-mean --scale quick
  sbatch jobs/train.sbatch --config configs/quickstart.cfg        # on SLURM (docs/cluster.md)
  mpiexec -n 4 --oversubscribe build/sgnn bench stream --json

Build: `make` (installs Debian packages if missing, builds build/sgnn); tests: `make test`.
Design: docs/architecture.md.
)TXT";

const char* kTrainHelp = R"TXT(sgnn train - train a simulation-grounded network

Simulator ranks draw parameters from the prior, simulate, apply the observation model
and stream batches to the trainers; trainers run data-parallel LibTorch training
(AdamW, warmup + cosine learning rate, gradient clipping, bucketed gradient allreduce);
the coordinator prints progress, evaluates on a held-out set drawn from its own random
stream, and writes the outputs.

Sample runs:
  build/sgnn train --config configs/quickstart.cfg
  mpiexec -n 4 --oversubscribe build/sgnn train --config configs/quickstart.cfg --out runs/qs
  mpiexec -n 6 build/sgnn train --config configs/quickstart.cfg --trainers 2 --train.steps 5000
  build/sgnn train --prior.R0 "loguniform(1.2, 6)" --model.type cnn --train.steps 1000

Rank layout (from the number of MPI ranks P and --trainers T):
  rank 0          coordinator
  ranks 1..T      trainers; each trains on one batch of stream.batch_size per step
  ranks T+1..P-1  simulator workers; simulator s feeds trainer s mod T (with fewer
                  simulators than trainers, one simulator feeds several trainers)
  P = T+1         the coordinator also runs a simulator worker
  P = 1           (no mpiexec) one process holds every role and simulates inline
  T must be in [1, P-1] (T = 1 when P = 1).

Reproducibility: sample i is a function of (seed, i) only. With --deterministic each
trainer consumes its batches in index order, so the final model is bitwise identical
for the same seed, config and trainer count, whatever the number of simulator ranks.

Outputs in --out (default runs/<name>-<timestamp>), each written atomically
(layouts in docs/file-formats.md):
  config.ini    every option's effective value (feed it back with --config)
  metrics.csv   one row per evaluation (pandas.read_csv)
  checkpoints/  step-<step>.h5: every checkpoint.every steps, every checkpoint.minutes,
                and on SIGTERM/SIGUSR1; the newest checkpoint.keep are kept
  model.h5      parameters by name and target normalization (h5py)
  summary.json  held-out R2/RMSE per target, throughput, rank counts, model hash
  run.json      the run's identity (run_id, also in its checkpoints)
A run locks --out while it runs (a second run there is refused), and a fresh run
refuses a folder that holds another run's outputs (docs/safety.md).

Checkpoints and resume:
  mpiexec -n 6 build/sgnn train --config C --out runs/a --checkpoint.every 500
  mpiexec -n 4 build/sgnn train --resume runs/a        (any number of simulators)
  On SIGTERM or SIGUSR1 (SLURM: #SBATCH --signal=B:USR1@120) sgnn writes a
  checkpoint after the current step and every rank exits with status 75; a job
  script requeues on 75 (jobs/train.sbatch does; docs/cluster.md). --deterministic
  runs resume to the same model bits. A signal before the first step (while the
  normalization and held-out sets are simulated) ends the job within about a second,
  also with 75: there is nothing to checkpoint yet.
  --resume DIR|FILE    continue from FILE, or run DIR's own newest checkpoint; the
                       checkpoint's config is the base, options given now override
                       what may change (steps, threads, evaluation, checkpoints)
  --resume auto        with --out DIR: resume if DIR has a checkpoint, else start
                       (in place of a run that left none, never of a finished one)
  --allow-reshard      resume with another trainer count (not bitwise reproducible)

From a corpus instead of live simulators (sgnn simulate --help):
  mpiexec -n 3 build/sgnn train --data corpus.h5 --trainers 2 --model.type cnn

Options come from --config FILE (INI: top-level keys, then [section] blocks) and from
the command line as --section.key VALUE; the command line wins. Errors name the key,
the value, where it came from and what is allowed, and exit with status 2.
PETSc options for the ODE models pass through with a single dash (-ts_rk_type 3bs,
-ts_adapt_type basic, -ts_monitor) and are recorded in ode.petsc_options.
  --config FILE                   read options from an INI file
  -h, --help                      this text
)TXT";

const char* kBenchHelp = R"TXT(sgnn bench stream|simulate|corpus - throughput measurements

  sgnn bench stream ...     the streamed training pipeline (below)
  sgnn bench simulate ...   simulator speed per core, optionally against NumPy
                            (sgnn bench simulate --help)
  sgnn bench corpus ...     corpus file write and read speed in MB/s
                            (sgnn bench corpus --help)

sgnn bench stream - throughput of the streamed training pipeline

Runs the training pipeline (the quickstart model unless options say otherwise) for
train.steps steps without writing outputs, and reports samples trained per second and
the fraction of time trainers waited for data. References measured in the same run:
  trainer_compute_samples_per_s   what one trainer trains per second of its own time
                                  (pipeline rate / trainers / (1 - wait fraction))
  simulate_samples_per_s_per_core rank 0 simulating alone, after the pipeline
  simulator_ranks_to_keep_up      trainers x compute rate / simulation rate: the
                                  simulator ranks (one core each) that feed the trainers
                                  without waiting
Shared machines are noisy: repeat a run and compare ratios, not absolute rates.

Sample runs:
  build/sgnn bench stream --json
  mpiexec -n 4 --oversubscribe build/sgnn bench stream --json --train.steps 300
  mpiexec -n 10 build/sgnn bench stream --json --trainers 2 --config configs/quickstart.cfg

  --json                          print one JSON object (otherwise a short table)
Every `sgnn train` option is accepted (see sgnn train --help).
)TXT";

const char* kListHelp = R"TXT(sgnn list - what is available

  sgnn list simulators    simulators with their parameters and default priors
  sgnn list models        network architectures
  sgnn list options       every option with its default (same as sgnn train --help)
)TXT";

// Rank as told by the launcher, before MPI is up: only rank 0 prints option errors.
bool launcher_rank_zero() {
    for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
        if (const char* value = std::getenv(name)) return std::string(value) == "0";
    }
    return true;
}

void print_error(const std::string& message) { std::fprintf(stderr, "sgnn: error: %s\n", message.c_str()); }

int list_command(const std::vector<std::string>& args) {
    const std::string what = args.empty() ? "" : args[0];
    if (what == "simulators") {
        std::printf("Every model makes one or more daily series (epidemic models: incidence); the observation\n"
                    "model (--obs.steps) turns them into what the network sees. Set priors with --prior.NAME,\n"
                    "choose targets with --sim.targets (any parameter or derived quantity, or log_ of one).\n"
                    "--sim.model mixture draws each sample's mechanism from --sim.mixture (e.g. sir:1,seir:1);\n"
                    "the target 'mechanism' then trains a classifier. ODE models (PETSc TS) take --ode.method:\n");
        for (const auto& [method, help] : sim::ode_methods()) std::printf("  %-9s %s\n", method.c_str(), help.c_str());
        std::printf("\nobservation steps:\n");
        for (const auto& step : sim::ObservationModel::step_names()) {
            std::string names;
            for (const auto& p : sim::ObservationModel::parameters_of(step)) names += (names.empty() ? "" : ", ") + p;
            std::printf("  %-9s parameters: %s\n", step.c_str(), names.empty() ? "(none)" : names.c_str());
        }
        for (const auto& [name, factory] : sim::simulator_registry()) {
            const auto simulator = factory(sgnn::sim::SimulatorOptions{});
            std::string channels;
            for (const auto& c : simulator->channels()) channels += (channels.empty() ? "" : ", ") + c;
            std::printf("\n%s: %s\n  series: %s\n  parameters (prior.NAME: default prior):\n", name.c_str(),
                        simulator->description().c_str(), channels.c_str());
            for (const auto& p : simulator->parameters()) {
                const sim::ParameterSpec& spec = sim::parameter_spec(p);
                std::printf("    %-24s %-22s %s\n", p.c_str(), spec.default_prior.c_str(), spec.help.c_str());
            }
            std::string derived;
            for (const auto& d : simulator->derived()) derived += (derived.empty() ? "" : ", ") + d;
            std::printf("  derived quantities: %s\n", derived.empty() ? "(none)" : derived.c_str());
        }
        return 0;
    }
    if (what == "models") {
        std::printf("mlp   residual MLP: linear input, model.blocks pre-norm residual blocks of width model.hidden\n"
                    "cnn   1-D CNN: 3 convolutions (model.channels, model.kernel), 2x pooling twice, dense embedding\n");
        return 0;
    }
    if (what == "options") {
        std::printf("%s", options_help(run_options()).c_str());
        return 0;
    }
    if (what == "--help" || what == "-h") {
        std::printf("%s", kListHelp);
        return 0;
    }
    print_error(what.empty() ? "sgnn list needs what to list: simulators, models or options"
                             : "cannot list '" + what + "'; choose simulators, models or options");
    return 2;
}

// Simulation speed alone, measured on rank 0 while the other ranks wait.
double measure_simulation_rate(const RunConfig& config, const stream::MpiSession& mpi) {
    double rate = 0.0;
    if (mpi.world_rank() == 0) {
        const auto task = sim::make_task(config.task);
        stream::BatchBuffer batch(config.stream.batch_size, task->layout().n_inputs, task->layout().n_targets());
        const int batches = 20;
        const auto start = std::chrono::steady_clock::now();
        for (int b = 0; b < batches; ++b) {
            stream::fill_batch(*task, config.stream, static_cast<std::uint64_t>(b), {0, ~0ull, 1.0, 0, 0}, batch);
        }
        const double seconds = seconds_since(start);
        rate = static_cast<double>(batches) * config.stream.batch_size / seconds;
    }
    // A polling barrier: blocking ones spin and would steal the core being measured.
    std::vector<MPI_Request> barrier(1);
    stream::check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, barrier.data()), "MPI_Ibarrier");
    stream::wait_all(barrier, "MPI_Test(barrier)");
    return rate;
}

void print_bench(const RunConfig& config, const io::Json& summary, double simulate_rate, bool json) {
    const double rate = summary["throughput"]["samples_per_s"].get<double>();
    const double wait = summary["throughput"]["trainer_wait_fraction"].get<double>();
    const double compute = rate / config.trainers / std::max(1e-9, 1.0 - wait);
    const double needed = config.trainers * compute / simulate_rate;
    io::Json result = {
        {"benchmark", "stream"},
        {"model", config.train.model.type},
        {"batch_size", config.stream.batch_size},
        {"steps", config.train.steps},
        {"deterministic", config.deterministic},
        {"ranks", summary["ranks"]},
        {"samples_per_s", rate},
        {"trainer_wait_fraction", wait},
        {"reference",
         {{"trainer_compute_samples_per_s", compute},
          {"simulate_samples_per_s_per_core", simulate_rate},
          {"simulator_ranks_to_keep_up", needed}}},
    };
    if (json) {
        std::printf("%s\n", result.dump().c_str());
    } else {
        std::printf("stream benchmark: %d trainer(s), %d simulator rank(s), model %s, batch %d, %lld steps\n",
                    config.trainers, summary["ranks"]["simulators"].get<int>(), config.train.model.type.c_str(),
                    config.stream.batch_size, static_cast<long long>(config.train.steps));
        std::printf("  pipeline            %10.0f samples/s (trainers waited %.1f%%)\n", rate, 100.0 * wait);
        std::printf("  trainer compute     %10.0f samples/s per trainer, excluding waits\n", compute);
        std::printf("  simulation alone    %10.0f samples/s per core\n", simulate_rate);
        std::printf("  simulator ranks needed to keep up: %.2f\n", needed);
    }
    std::fflush(stdout);
}

// --resume: the checkpoint file (or "" for a fresh run under --resume auto), its
// configuration under the command line, and the run directory as the default --out.
RunConfig resumed_config(const std::vector<std::string>& args, ParsedOptions& parsed) {
    std::string path;
    if (parsed.resume == "auto") {
        // For job scripts that run the same command on every (re)start.
        if (parsed.origin["out"] == "default") {
            throw ConfigError("--resume auto needs --out DIR: the run directory to resume from, or to start in");
        }
        const std::string out = parsed.values["out"];
        const bool has_checkpoint = !coord::list_checkpoints(coord::checkpoint_directory(out)).empty();
        if (!has_checkpoint) {
            RunConfig fresh = make_run_config(parsed);
            fresh.resume_auto = true;
            return fresh;
        }
        path = coord::resolve_resume_path(out);
    } else {
        path = coord::resolve_resume_path(parsed.resume);
    }
    std::string checkpoint_ini;
    try {
        checkpoint_ini = io::DatasetReader(path).read("config").text();
    } catch (const std::exception& error) {
        const std::string message = error.what();
        throw ConfigError("checkpoint " + (message.rfind(path, 0) == 0 ? message : path + ": " + message));
    }
    parsed = parse_options(args, run_options(), false, checkpoint_ini, "checkpoint " + path);
    if (parsed.origin["out"] != "command line") parsed.values["out"] = coord::run_directory_of(path);
    RunConfig config = make_run_config(parsed);
    require_same_settings("checkpoint " + path, checkpoint_ini, config.effective_ini, defines_the_run,
                          "a resumed run keeps the simulator, observation model, priors, network, optimizer, batch "
                          "size and seed (drop the option, or start a new run)");
    config.resume = path;
    return config;
}

// --data: the corpus's simulation settings under the command line; they must stay
// those the corpus was simulated with.
RunConfig corpus_config(const std::vector<std::string>& args, ParsedOptions& parsed) {
    const std::string path = parsed.values["data"];
    std::string corpus_ini;
    try {
        const io::CorpusHeader header(path, "sgnn-corpus", "write one with sgnn simulate");  // format and checksums
        corpus_ini = io::DatasetReader(path).read("config").text();
    } catch (const std::exception& error) {
        const std::string message = error.what();
        const bool advised = message.find("sgnn simulate") != std::string::npos;
        throw ConfigError("data = " + (message.rfind(path, 0) == 0 ? message : path + ": " + message) +
                          (advised ? "" : " (write a corpus with sgnn simulate)"));
    }
    parsed = parse_options(args, run_options(), false, corpus_ini, "corpus " + path);
    parsed.values["data"] = path;
    parsed.origin["data"] = "command line";
    RunConfig config = make_run_config(parsed);
    require_same_settings("data = " + path, corpus_ini, config.effective_ini, defines_the_samples,
                          "a corpus fixes the simulator, observation model and priors (drop the option, or simulate "
                          "a new corpus)");
    return config;
}

// `sgnn train` and `sgnn bench stream`: MPI from here on.
int pipeline_command(bool bench, const std::vector<std::string>& args, int* argc, char*** argv) {
    ParsedOptions parsed;
    RunConfig config;
    try {
        parsed = parse_options(args, run_options(), bench);
        if (parsed.help) {
            std::printf("%s%s", bench ? kBenchHelp : kTrainHelp, options_help(run_options()).c_str());
            return 0;
        }
        if (!parsed.resume.empty()) {
            config = resumed_config(args, parsed);
        } else if (!parsed.values["data"].empty()) {
            config = corpus_config(args, parsed);
        } else {
            config = make_run_config(parsed);
        }
    } catch (const ConfigError& error) {
        if (launcher_rank_zero()) print_error(error.what());
        return 2;
    }
    if (bench) {
        // Benchmarks defaults: a few hundred steps, no evaluation between.
        if (parsed.origin["train.steps"] == "default") config.train.steps = 300;
        if (parsed.origin["eval.every"] == "default") config.train.eval_every = config.train.steps;
    }

    stream::MpiSession mpi(argc, argv);
    const sim::OdeRuntimeScope ode_runtime;  // PETSc finalizes before MPI
    if (!bench) coord::install_stop_signal_handlers();
    try {
        RunOptions options;
        options.write_outputs = !bench;
        options.quiet = bench;
        const RunResult result = run_training(config, mpi, options);
        if (bench) {
            const double simulate_rate = measure_simulation_rate(config, mpi);
            if (mpi.world_rank() == 0) print_bench(config, result.summary, simulate_rate, parsed.json);
        }
        return result.exit_code;
    } catch (const ConfigError& error) {
        // Found identically on every rank before any rank started talking.
        if (mpi.world_rank() == 0) print_error(error.what());
        return 2;
    } catch (const StopRequested& stop) {
        // Before the first step there is no checkpoint to write: the job just ends, as
        // a stopped one does, and a requeued job starts afresh.
        end_job_stopped(stop, role_of_rank(config, mpi.world_rank(), mpi.world_size()), mpi.world_rank(),
                        mpi.world_size());
    } catch (const std::exception& error) {
        end_job(error, role_of_rank(config, mpi.world_rank(), mpi.world_size()), mpi.world_rank());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::printf("%s", kOverview);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::printf("sgnn %s\n", SGNN_VERSION);
        return 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "train") return pipeline_command(false, args, &argc, &argv);
    if (command == "bench") {
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            std::printf("%s", kBenchHelp);
            return 0;
        }
        if (!args.empty() && args[0] == "simulate") {
            args.erase(args.begin());
            return bench_simulate_command(args);
        }
        if (!args.empty() && args[0] == "corpus") {
            args.erase(args.begin());
            return bench_corpus_command(args, &argc, &argv);
        }
        if (args.empty() || args[0] != "stream") {
            print_error("sgnn bench needs a benchmark name: stream, simulate or corpus (see sgnn bench --help)");
            return 2;
        }
        args.erase(args.begin());
        return pipeline_command(true, args, &argc, &argv);
    }
    if (command == "simulate") return simulate_command(args, &argc, &argv);
    if (command == "experiment") return experiment_command(args, &argc, &argv);
    if (command == "bank") return bank_command(args, &argc, &argv);
    if (command == "attribute") return attribute_command(args);
    if (command == "sweep") return sweep_command(args);
    if (command == "list") return list_command(args);
    print_error("unknown command '" + printable(command) + "'; commands are train, simulate, experiment, bank, attribute, sweep, bench and list (sgnn --help)");
    return 2;
}

}  // namespace sgnn::cli
