#include "sgnn/bench/bench_stream.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/run/command.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/run/run.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/simulator_worker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace sgnn::bench {
namespace {

const char* kBenchHelp = R"TXT(sgnn bench stream|simulate|corpus - throughput measurements

  sgnn bench stream ...     the streamed training pipeline (below)
  sgnn bench simulate ...   simulator speed per core, optionally against NumPy
                            (sgnn bench simulate --help)
  sgnn bench corpus ...     corpus file write and read speed in MB/s
                            (sgnn bench corpus --help)

sgnn bench stream - throughput of the streamed training pipeline

Runs the training pipeline (the quickstart model unless options say otherwise) for
train.steps steps without writing outputs, and reports samples trained per second and
the fraction of time trainers waited for data. The one evaluation, at the end, uses 64
held-out samples unless --eval.samples is given on the command line. References measured in the same run:
  trainer_compute_samples_per_s   what one trainer trains per second of its own time
                                  (pipeline rate / trainers / (1 - wait fraction))
  simulate_samples_per_s_per_core rank 0 simulating alone, after the pipeline
  simulator_ranks_to_keep_up      trainers x compute rate / simulation rate: the
                                  simulator ranks (one core each) that feed the trainers
                                  without waiting
With model.head = flow or mixture the same pipeline runs a second time with the mean
head on the same embedding network, and the report adds
  mean_head_trainer_compute_samples_per_s   that run's trainer compute rate
  head_step_cost                  the density head's step time over the mean head's
                                  (mean rate / head rate; 1.5 = 50% more per step)
Shared machines are noisy: repeat a run and compare ratios, not absolute rates.

Sample runs:
  build/sgnn bench stream --json
  mpiexec -n 4 --oversubscribe build/sgnn bench stream --json --train.steps 300
  mpiexec -n 10 build/sgnn bench stream --json --trainers 2 --config configs/quickstart.cfg

  --json                          print one JSON object (otherwise a short table)
Every `sgnn train` option is accepted (see sgnn train --help).
)TXT";

// Simulation speed alone, measured on rank 0 while the other ranks wait.
double measure_simulation_rate(const run::RunConfig& config, const comm::MpiSession& mpi) {
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
    comm::barrier(MPI_COMM_WORLD, "MPI_Ibarrier(after the simulation rate)");
    return rate;
}

// What one trainer trains per second of its own time (waits excluded).
double trainer_compute_rate(const run::RunConfig& config, const io::Json& summary) {
    const double rate = summary["throughput"]["samples_per_s"].get<double>();
    const double wait = summary["throughput"]["trainer_wait_fraction"].get<double>();
    return rate / config.trainers / std::max(1e-9, 1.0 - wait);
}

// `mean_head_summary`: the same pipeline with the mean head, or null.
void print_bench(const run::RunConfig& config, const io::Json& summary, const io::Json& mean_head_summary,
                 double simulate_rate, bool json) {
    const double rate = summary["throughput"]["samples_per_s"].get<double>();
    const double wait = summary["throughput"]["trainer_wait_fraction"].get<double>();
    const double compute = trainer_compute_rate(config, summary);
    const double needed = config.trainers * compute / simulate_rate;
    io::Json result = {
        {"benchmark", "stream"},
        {"model", config.train.model.type},
        {"head", config.train.model.head},
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
    double mean_compute = 0.0;
    if (!mean_head_summary.is_null()) {
        mean_compute = trainer_compute_rate(config, mean_head_summary);
        result["reference"]["mean_head_trainer_compute_samples_per_s"] = mean_compute;
        result["reference"]["head_step_cost"] = mean_compute / compute;
    }
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
        if (mean_compute > 0.0) {
            std::printf("  mean head           %10.0f samples/s per trainer: the %s head costs %.2fx its step\n",
                        mean_compute, config.train.model.head.c_str(), mean_compute / compute);
        }
    }
    std::fflush(stdout);
}

}  // namespace

int bench_stream_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    const config::CommandFlags flags(args,
                                     {{"json", config::OptionSpec::Type::boolean, "false", "print one JSON object"}});
    config::ParsedOptions parsed = config::parse_options(args, run::run_options());
    if (parsed.help) {
        std::printf("%s%s", kBenchHelp, config::options_help(run::run_options()).c_str());
        return 0;
    }
    run::RunConfig config = run::configure_run(args, parsed);
    // Benchmark defaults: a few hundred steps, no evaluation between.
    if (parsed.origin["train.steps"] == "default") config.train.steps = 300;
    if (parsed.origin["eval.every"] == "default") config.train.eval_every = config.train.steps;
    // The final evaluation is not what is measured (with a density head it draws
    // calibration.draws posterior samples per held-out sample): a small held-out set,
    // unless the command line asks for another.
    if (parsed.origin["eval.samples"] != "command line") config.train.eval_samples = 64;

    const comm::MpiSession& mpi = session.start_mpi();
    session.set_role(run::role_of_rank(config, mpi.world_rank(), mpi.world_size()));
    run::RunOptions options;
    options.write_outputs = false;
    options.quiet = true;
    const run::RunResult result = run::run_training(config, mpi, options);
    if (result.exit_code != 0) return result.exit_code;
    io::Json mean_head;
    if (config.train.model.head != "mean") {
        // The reference: the same pipeline and embedding network with the mean head.
        run::RunConfig reference = config;
        reference.train.model.head = "mean";
        const run::RunResult baseline = run::run_training(reference, mpi, options);
        if (baseline.exit_code != 0) return baseline.exit_code;
        mean_head = baseline.summary;
    }
    const double simulate_rate = measure_simulation_rate(config, mpi);
    if (mpi.world_rank() == 0) print_bench(config, result.summary, mean_head, simulate_rate, flags.boolean("json"));
    return result.exit_code;
}

const char* bench_help() { return kBenchHelp; }

}  // namespace sgnn::bench
