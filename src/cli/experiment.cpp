#include "sgnn/cli/experiment.hpp"

#include "sgnn/cli/fatal.hpp"
#include "sgnn/cli/simulate.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/sim/ode_solver.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

namespace sgnn::cli {
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

Sample runs:
  build/sgnn experiment posterior-mean --scale quick --out runs/pm
  mpiexec -n 5 build/sgnn experiment posterior-mean --scale paper --out runs/pm-paper
  build/sgnn experiment posterior-mean --scale quick --experiment.test_series 500

Outputs in --out (default runs/NAME-SCALE): config.ini (every option, experiment.*
included), summary.json (claims_hold says whether each headline inequality holds),
CSV tables, PNG figures, and one training run directory per trained network.
)TXT";

std::string command_output(const std::string& command) {
    std::string text;
    if (std::FILE* pipe = popen(command.c_str(), "r")) {
        char buffer[256];
        while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) text += buffer;
        pclose(pipe);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// The commit the binary's source tree is at ("-dirty" with uncommitted changes).
std::string git_commit() {
    const std::string source = SGNN_SOURCE_DIR;
    const std::string commit = command_output("git -C '" + source + "' rev-parse HEAD 2>/dev/null");
    if (commit.empty()) return "unknown";
    const bool dirty = !command_output("git -C '" + source + "' status --porcelain --untracked-files=no 2>/dev/null").empty();
    return commit + (dirty ? "-dirty" : "");
}

std::string default_config(const std::string& name) {
    const std::string installed = std::string(SGNN_SOURCE_DIR) + "/configs/paper/" + name + ".cfg";
    return std::filesystem::exists(installed) ? installed : "configs/paper/" + name + ".cfg";
}

// Draws the figures with Debian's matplotlib; a missing matplotlib is said, not fatal.
std::vector<std::string> draw_figures(const std::string& name, const std::string& out) {
    const std::string script = std::string(SGNN_SOURCE_DIR) + "/scripts/plot_experiment.py";
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const std::string listed = command_output(python + " '" + script + "' " + name + " '" + out + "' 2>&1");
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

}  // namespace

std::string ExperimentContext::scaled_key(const std::string& key) const {
    const std::string quick = "experiment.quick_" + key;
    if (scale == "quick" && options.values.count(quick)) return quick;
    return "experiment." + key;
}

const std::vector<OptionSpec>& experiment_options() {
    using Type = OptionSpec::Type;
    static const std::vector<OptionSpec> specs = [] {
        std::vector<OptionSpec> all = run_options();
        const std::vector<OptionSpec> mine = {
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
            {"experiment.grid", Type::integer, "150",
             "quadrature points per axis and pass for exact posteriors (two passes: prior box, then where the mass is)",
             10, 10000},
            {"experiment.bootstrap", Type::integer, "1000", "bootstrap resamples for the 95% intervals", 10, 1e6},
            {"experiment.keep_corpora", Type::boolean, "false", "keep each budget's corpus.h5 (they can be large)"},
        };
        all.insert(all.end(), mine.begin(), mine.end());
        return all;
    }();
    return specs;
}

int experiment_command(const std::vector<std::string>& all_args, int* argc, char*** argv) {
    std::vector<std::string> args = all_args;
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::printf("%s%s", kHelp, options_help(experiment_options()).c_str());
        return args.empty() ? 2 : 0;
    }
    ExperimentContext context;
    context.name = args[0];
    args.erase(args.begin());
    const std::map<std::string, io::Json (*)(ExperimentContext&)> experiments = {
        {"posterior-mean", run_posterior_mean}};
    try {
        if (experiments.count(context.name) == 0) {
            throw ConfigError("unknown experiment '" + context.name + "'; sgnn experiment --help lists them");
        }
        context.scale = take_flag(args, "--scale", "quick");
        if (context.scale != "quick" && context.scale != "paper") {
            throw ConfigError("--scale = '" + context.scale + "': choose quick or paper");
        }
        const std::string out = take_flag(args, "--out", "");
        context.out = out.empty() ? "runs/" + context.name + "-" + context.scale : out;
        bool has_config = false;
        for (const auto& a : args) has_config |= a == "--config" || a.rfind("--config=", 0) == 0;
        if (!has_config) {
            args.push_back("--config");
            args.push_back(default_config(context.name));
        }
        context.options = parse_options(args, experiment_options(), false);
        if (context.options.help) {
            std::printf("%s%s", kHelp, options_help(experiment_options()).c_str());
            return 0;
        }
        context.run = make_run_config(context.options);
    } catch (const ConfigError& error) {
        std::fprintf(stderr, "sgnn: error: %s\n", error.what());
        return 2;
    }

    stream::MpiSession mpi(argc, argv);
    const sim::OdeRuntimeScope ode_runtime;  // PETSc finalizes before MPI
    context.mpi = &mpi;
    try {
        const auto started = std::chrono::steady_clock::now();
        const std::string config_ini = effective_ini(context.options, experiment_options());
        if (context.is_root()) {
            io::make_directories(context.out);
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
                                {"git_commit", git_commit()},
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
    } catch (const ConfigError& error) {
        // An experiment's ranks talk from the start, so a configuration problem found
        // on some ranks only must still end them all: rank 0 reports and aborts; the
        // others report only if rank 0 did not find it (and end the job) first.
        if (!context.is_root()) std::this_thread::sleep_for(std::chrono::seconds(5));
        std::fprintf(stderr, "sgnn: error: %s\n", error.what());
        std::fflush(stderr);
        if (mpi.world_size() > 1) MPI_Abort(MPI_COMM_WORLD, 2);
        return 2;
    } catch (const std::exception& error) {
        end_job(error, "experiment " + context.name, mpi.world_rank());
    }
    return 0;
}

}  // namespace sgnn::cli
