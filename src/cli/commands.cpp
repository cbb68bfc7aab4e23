#include "sgnn/cli/commands.hpp"

#include "sgnn/bank/commands.hpp"
#include "sgnn/bench/bench_corpus.hpp"
#include "sgnn/bench/bench_simulate.hpp"
#include "sgnn/bench/bench_stream.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/corpus/simulate_command.hpp"
#include "sgnn/error.hpp"
#include "sgnn/experiments/harness.hpp"
#include "sgnn/io/installation.hpp"
#include "sgnn/predict/commands.hpp"
#include "sgnn/run/command.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/run/session.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/sim/parameters.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/sweep/sweep.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace sgnn::cli {
namespace {

const char* kOverviewHead = R"TXT(sgnn - simulation-grounded neural networks on MPI clusters

Trains neural networks only on synthetic data from mechanistic simulators. Simulator
ranks stream batches to data-parallel trainer ranks under credit flow control; a
coordinator rank owns the prior schedule, evaluation, progress and outputs.

Usage: sgnn <command> [options]

Commands:
)TXT";

const char* kOverviewTail = R"TXT(
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

const char* kListHelp = R"TXT(sgnn list - what is available

  sgnn list simulators    simulators with their parameters and default priors
  sgnn list models        network architectures
  sgnn list options       every option with its default (same as sgnn train --help)
)TXT";

// One simulator in `sgnn list simulators`: what it is, its series, its parameters with
// their default priors, its derived quantities.
void print_simulator(const std::string& name, const sim::Simulator& simulator) {
    std::string channels;
    for (const auto& c : simulator.channels()) channels += (channels.empty() ? "" : ", ") + c;
    std::printf("\n%s: %s\n  series: %s\n  parameters (prior.NAME: default prior):\n", name.c_str(),
                simulator.description().c_str(), channels.c_str());
    for (const auto& p : simulator.parameters()) {
        const sim::ParameterSpec spec = sim::parameter_spec_of(simulator, p);
        std::printf("    %-24s %-22s %s\n", p.c_str(), spec.default_prior.c_str(), spec.help.c_str());
    }
    std::string derived;
    for (const auto& d : simulator.derived()) derived += (derived.empty() ? "" : ", ") + d;
    std::printf("  derived quantities: %s\n", derived.empty() ? "(none)" : derived.c_str());
}

int list_command(run::Session& session) {
    const std::vector<std::string>& args = session.args();
    const std::string what = args.empty() ? "" : args[0];
    if (what == "simulators") {
        std::printf(
            "Every model makes one or more daily series (epidemic models: incidence); the observation\n"
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
            print_simulator(name, *factory(sgnn::sim::SimulatorOptions{}));
        }
        // The model files sgnn ships (docs/models.md): sim.model = PATH runs one.
        const std::string shipped = io::data_directory().empty() ? "" : io::data_directory() + "/models";
        std::error_code error;
        if (!shipped.empty() && std::filesystem::is_directory(shipped, error)) {
            std::vector<std::string> files;
            for (const auto& entry : std::filesystem::directory_iterator(shipped)) {
                if (sim::is_model_file(entry.path().string())) files.push_back(entry.path().string());
            }
            std::sort(files.begin(), files.end());
            std::printf("\nModel files (sim.model = FILE; write your own: docs/models.md), in %s:\n", shipped.c_str());
            for (const auto& file : files) print_simulator(file, *sim::make_simulator(file));
        }
        return 0;
    }
    if (what == "models") {
        std::printf(
            "mlp   residual MLP: linear input, model.blocks pre-norm residual blocks of width model.hidden\n"
            "cnn   1-D CNN: 3 convolutions (model.channels, model.kernel), 2x pooling twice, dense embedding\n");
        return 0;
    }
    if (what == "options") {
        std::printf("%s", config::options_help(run::run_options()).c_str());
        return 0;
    }
    if (what == "--help" || what == "-h") {
        std::printf("%s", kListHelp);
        return 0;
    }
    throw ConfigError(what.empty() ? "sgnn list needs what to list: simulators, models or options"
                                   : "cannot list '" + printable(what) + "'; choose simulators, models or options");
}

// `sgnn bench` alone, or with --help: the benchmarks are the commands "bench NAME".
int bench_group_command(run::Session& session) {
    const std::vector<std::string>& args = session.args();
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::printf("%s", bench::bench_help());
        return 0;
    }
    throw ConfigError("sgnn bench needs a benchmark name: stream, simulate or corpus (see sgnn bench --help)");
}

// One row per command. `runs_ranks`: the command starts MPI ranks (it may run under
// mpiexec or srun); the others are single processes. `agreement` says how its ranks
// meet configuration errors and stops once MPI runs (run/session.hpp). A row with no
// summary is listed under its group ("bench").
struct Command {
    const char* name;
    const char* summary;
    bool runs_ranks;
    run::ErrorAgreement agreement;
    int (*run)(run::Session&);
};

constexpr run::ErrorAgreement kSingleProcess{};

const Command kCommands[] = {
    {"train", "train a network on streamed simulations", true, run::kTrainAgreement, run::train_command},
    {"simulate", "write a synthetic corpus to one HDF5 file", true, corpus::kSimulateAgreement,
     corpus::simulate_command},
    {"experiment", "paper-figure runs: baselines, tables, PNGs", true, experiments::kExperimentAgreement,
     experiments::experiment_command},
    {"bank", "embed simulations into a memory bank", true, bank::kBankAgreement, bank::bank_command},
    {"attribute", "explain an observation by nearest simulations", false, kSingleProcess, bank::attribute_command},
    {"predict", "posterior summaries and draws for observed series", true, predict::kPredictAgreement,
     predict::predict_command},
    {"sweep", "parameter grids for SLURM job arrays", false, kSingleProcess, sweep::sweep_command},
    {"bench", "pipeline, simulator and corpus throughput", false, kSingleProcess, bench_group_command},
    {"bench stream", nullptr, true, run::kTrainAgreement, bench::bench_stream_command},
    {"bench simulate", nullptr, false, kSingleProcess, bench::bench_simulate_command},
    {"bench corpus", nullptr, true, bench::kBenchCorpusAgreement, bench::bench_corpus_command},
    {"list", "list simulators, models or options", false, kSingleProcess, list_command},
};

std::string overview() {
    std::string text = kOverviewHead;
    for (const Command& command : kCommands) {
        if (command.summary == nullptr) continue;
        char line[160];
        std::snprintf(line, sizeof line, "  %-11s %-45s (sgnn %s --help)\n", command.name, command.summary,
                      command.name);
        text += line;
    }
    return text + kOverviewTail;
}

// The row for the command line's first words: "bench stream" before "bench".
const Command* find_command(const std::vector<std::string>& args, std::size_t& words) {
    for (words = 2; words >= 1; --words) {
        if (args.size() < words) continue;
        std::string name = args[0];
        if (words == 2) name += " " + args[1];
        for (const Command& command : kCommands) {
            if (name == command.name) return &command;
        }
    }
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::printf("%s", overview().c_str());
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::printf("sgnn %s\n", SGNN_VERSION);
        return 0;
    }
    std::size_t words = 0;
    const Command* command = find_command(args, words);
    if (command == nullptr) {
        std::fprintf(stderr,
                     "sgnn: error: unknown command '%s'; commands are train, simulate, experiment, bank, "
                     "attribute, sweep, bench and list (sgnn --help)\n",
                     printable(args[0]).c_str());
        return 2;
    }
    args.erase(args.begin(), args.begin() + static_cast<long>(words));
    run::Session session(std::move(args), command->runs_ranks ? &argc : nullptr, command->runs_ranks ? &argv : nullptr,
                         command->agreement);
    return run::run_guarded(session, command->run);
}

}  // namespace sgnn::cli
