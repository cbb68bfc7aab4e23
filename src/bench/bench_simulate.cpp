#include "sgnn/bench/bench_simulate.hpp"

#include "sgnn/clock.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/installation.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/io/subprocess.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/sim/parameters.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/text.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

namespace sgnn::bench {
namespace {

const char* kHelp = R"TXT(sgnn bench simulate - simulations per second per core

Runs one simulator with fixed parameters (no observation model, no network) on one
core, then on every OpenMP thread, and reports trajectories per second. With
--vs-numpy it also runs scripts/numpy_sir.py, a NumPy chain-binomial SIR
vectorised over a batch, in the same run, and reports the per-core ratio.

With --model-file FILE --vs-builtin it runs a model file (docs/models.md) under each
method (chain_binomial, tau_leap, gillespie, ode) beside the built-in model of the
file's name (seir, seir_tauleap, seir_gillespie, seir_ode for models/seir.model),
with the same parameters in the same run, and reports the file's speed per core as a
ratio: the median of 5 rounds, each timing both for --seconds / 5.

Sample runs:
  build/sgnn bench simulate --model sir --days 100 --population 1e5 --json --vs-numpy
  build/sgnn bench simulate --model seir_gillespie --population 1e4
  build/sgnn bench simulate --model-file models/seir.model --vs-builtin --population 1e5
  OMP_NUM_THREADS=8 build/sgnn bench simulate --model sir --threads 8

Options:)TXT";

// The flags of `sgnn bench simulate`.
std::vector<config::OptionSpec> bench_simulate_flags() {
    using Type = config::OptionSpec::Type;
    using config::default_text;
    return {
        {"model", Type::text, "sir", "simulator (sgnn list simulators), or a model file FILE.model"},
        {"model-file", Type::text, "", "a model file to compare with the built-in model of its name (--vs-builtin)"},
        {"vs-builtin", Type::boolean, "false",
         "with --model-file: every method of the file against the built-in model in the same run"},
        {"days", Type::integer, "100", "days per trajectory", 1, 100000},
        {"population", Type::real, "1e5", "population N", 1, 1e10},
        {"r0", Type::real, "2.5", "R0, above 0", 0, 100},
        {"infectious-period", Type::real, "5", "days, above 0", 0, 1e6},
        {"initial-infected", Type::integer, "10", "initial infectious, at most N", 1, 1e10},
        {"threads", Type::integer, default_text(omp_get_max_threads()), "OpenMP threads for the total rate", 1, 4096},
        {"seconds", Type::real, "2", "minimum time per measurement, above 0", 0, 3600},
        {"json", Type::boolean, "false", "print one JSON object"},
        {"vs-numpy", Type::boolean, "false", "also time the NumPy reference (chain-binomial SIR only)"},
        {"python", Type::text, "/usr/bin/python3", "python with NumPy"},
        {"help", Type::boolean, "false", "this text"},
    };
}

struct Measurement {
    double per_second = 0.0;
    double mean_cases = 0.0;
};

// Trajectories per second on `threads` threads, for at least `seconds`.
Measurement measure(const sim::Simulator& simulator, const std::vector<double>& params, int days, int threads,
                    double seconds) {
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t done = 0;
    double cases = 0.0;
    const int chunk = 256, block = simulator.block_size();  // blocks as the task simulates them (sim/task.cpp)
    const std::size_t length = simulator.channels().size() * static_cast<std::size_t>(days);
    for (;;) {
#pragma omp parallel for num_threads(threads) reduction(+ : cases) schedule(static)
        for (int b = 0; b < std::max(1, chunk * threads / block); ++b) {
            thread_local std::vector<double> series;
            thread_local std::vector<double> batch_params;
            std::vector<sim::SampleStream> rngs;
            std::vector<char> ok(static_cast<std::size_t>(block));
            series.resize(static_cast<std::size_t>(block) * length);
            batch_params.clear();
            for (int j = 0; j < block; ++j) {
                rngs.emplace_back(1, sim::Purpose::test, done + static_cast<std::uint64_t>(b * block + j));
                batch_params.insert(batch_params.end(), params.begin(), params.end());
            }
            simulator.simulate_batch(batch_params.data(), block, days, rngs.data(), series.data(), ok.data());
            for (double x : series) cases += x;
        }
        done += static_cast<std::uint64_t>(std::max(1, chunk * threads / block) * block);
        const double elapsed = seconds_since(start);
        if (elapsed >= seconds) return {static_cast<double>(done) / elapsed, cases / static_cast<double>(done)};
    }
}

io::Json run_numpy(const std::string& python, int days, double population, double r0, double period, int initial,
                   double seconds) {
    const std::string script = io::installed_file("scripts/numpy_sir.py");
    if (script.empty()) throw std::runtime_error("scripts/numpy_sir.py is not installed beside this sgnn");
    const auto number = [](double v) {
        char text[32];
        std::snprintf(text, sizeof text, "%.17g", v);
        return std::string(text);
    };
    const std::vector<std::string> command = {python,
                                              script,
                                              "--json",
                                              "--days",
                                              std::to_string(days),
                                              "--population",
                                              number(population),
                                              "--r0",
                                              number(r0),
                                              "--infectious-period",
                                              number(period),
                                              "--initial-infected",
                                              std::to_string(initial),
                                              "--seconds",
                                              number(seconds)};
    const io::ProcessResult result = io::run_process(command, io::ChildStderr::discard);
    if (!result.started) throw std::runtime_error("cannot run " + python);
    const std::string& output = result.output;
    if (result.exit_code != 0 || output.empty()) {
        throw std::runtime_error("the NumPy reference failed (" + python + " " + script + "); it needs NumPy for " +
                                 python + " (Debian: python3-numpy)");
    }
    return io::Json::parse(output);
}

// The simulator's parameters: `given` by name, any other at its default prior's centre
// (a model file's own default for its parameters).
std::vector<double> parameter_values(const sim::Simulator& simulator, const std::map<std::string, double>& given) {
    std::vector<double> params;
    for (const auto& name : simulator.parameters()) {
        const auto it = given.find(name);
        if (it != given.end()) {
            params.push_back(it->second);
            continue;
        }
        const sim::ParameterSpec spec = sim::parameter_spec_of(simulator, name);
        params.push_back(sim::ParameterPrior::parse("prior." + name, spec.default_prior, spec.domain).centre());
    }
    return params;
}

// --model-file FILE --vs-builtin: the file under each method against the built-in model
// of its name, one core each, in this run: kRounds rounds of --seconds / kRounds each.
constexpr int kRounds = 5;
int compare_with_builtin(const std::string& file, const std::map<std::string, double>& given, int days, double seconds,
                         bool json) {
    const std::string stem = std::filesystem::path(file).stem().string();
    const std::vector<std::pair<std::string, std::string>> methods = {{"chain_binomial", stem},
                                                                      {"tau_leap", stem + "_tauleap"},
                                                                      {"gillespie", stem + "_gillespie"},
                                                                      {"ode", stem + "_ode"}};
    io::Json rows = io::Json::array();
    for (const auto& [method, builtin_name] : methods) {
        sim::SimulatorOptions options;
        options.method = method;
        const auto from_file = sim::make_simulator(file, options);
        if (sim::simulator_registry().count(builtin_name) == 0) {
            throw ConfigError("bench simulate --vs-builtin: no built-in model " + builtin_name + " to compare " + file +
                              " with (the file's name picks it: sir.model, seir.model)");
        }
        const auto builtin = sim::make_simulator(builtin_name);
        if (builtin->parameters() != from_file->parameters()) {
            throw ConfigError("bench simulate --vs-builtin: " + file + " and " + builtin_name +
                              " have different parameters; compare models of the same parameters");
        }
        const std::vector<double> params = parameter_values(*builtin, given);
        if (builtin->events_per_individual() * given.at("population") > 1e8) {
            throw ConfigError("bench simulate --vs-builtin: --population " + format_number(given.at("population")) +
                              " makes one exact SSA trajectory up to " +
                              format_number(builtin->events_per_individual() * given.at("population")) +
                              " events (1e8 at most here); measure a smaller population");
        }
        measure(*from_file, params, days, 1, 0.0);  // warm-up
        measure(*builtin, params, days, 1, 0.0);
        // Interleaved rounds, each timing both: a machine whose speed drifts (a shared
        // VM, a CPU's clock) moves both sides of a round alike, and the median round
        // ignores one disturbed round.
        std::vector<double> ratios;
        double file_rate = 0.0, builtin_rate = 0.0, file_cases = 0.0, builtin_cases = 0.0;
        for (int round = 0; round < kRounds; ++round) {
            const Measurement a = measure(*from_file, params, days, 1, seconds / kRounds);
            const Measurement b = measure(*builtin, params, days, 1, seconds / kRounds);
            ratios.push_back(a.per_second / b.per_second);
            file_rate += a.per_second / kRounds;
            builtin_rate += b.per_second / kRounds;
            file_cases += a.mean_cases / kRounds;
            builtin_cases += b.mean_cases / kRounds;
        }
        std::vector<double> sorted = ratios;
        std::sort(sorted.begin(), sorted.end());
        rows.push_back({{"method", method},
                        {"builtin", builtin_name},
                        {"file_per_s_per_core", file_rate},
                        {"builtin_per_s_per_core", builtin_rate},
                        {"ratio", sorted[kRounds / 2]},
                        {"round_ratios", ratios},
                        {"file_mean_cases", file_cases},
                        {"builtin_mean_cases", builtin_cases}});
    }
    const io::Json result = {{"benchmark", "simulate"}, {"model_file", file}, {"days", days}, {"methods", rows}};
    if (json) {
        std::printf("%s\n", result.dump().c_str());
        return 0;
    }
    std::printf("%s against the built-in model, one core, %d days, the median of %d interleaved rounds:\n",
                file.c_str(), days, kRounds);
    std::printf("  %-15s %-16s %14s %14s %7s  %s\n", "method", "built-in", "file (/s)", "built-in (/s)", "ratio",
                "rounds");
    for (const auto& row : rows) {
        const std::vector<double> rounds = row["round_ratios"].get<std::vector<double>>();
        const auto [low, high] = std::minmax_element(rounds.begin(), rounds.end());
        std::printf("  %-15s %-16s %14.0f %14.0f %6.2fx  %.2f-%.2fx\n", row["method"].get<std::string>().c_str(),
                    row["builtin"].get<std::string>().c_str(), row["file_per_s_per_core"].get<double>(),
                    row["builtin_per_s_per_core"].get<double>(), row["ratio"].get<double>(), *low, *high);
    }
    return 0;
}

}  // namespace

int bench_simulate_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    const std::vector<config::OptionSpec> specs = bench_simulate_flags();
    const config::CommandFlags flags(args, specs);
    if (flags.boolean("help")) {
        std::printf("%s%s", kHelp, config::flags_help(specs).c_str());
        return 0;
    }
    if (!args.empty()) {
        throw ConfigError("bench simulate: unknown option '" + printable(args[0]) +
                          "' (see sgnn bench simulate --help)");
    }
    const std::string model = flags.text("model");
    const int days = static_cast<int>(flags.integer("days")),
              initial = static_cast<int>(flags.integer("initial-infected")),
              threads = static_cast<int>(flags.integer("threads"));
    const double population = flags.number("population"), r0 = flags.number("r0");
    const double period = flags.number("infectious-period"), seconds = flags.number("seconds");
    const bool vs_numpy = flags.boolean("vs-numpy");
    const auto bad = [](const std::string& message) { throw ConfigError("bench simulate: " + message); };
    // What the specs' inclusive ranges cannot say.
    if (!(r0 > 0)) bad("--r0 must be in (0, 100]");
    if (!(period > 0)) bad("--infectious-period must be positive");
    if (initial > population) bad("--initial-infected must be in [1, population]");
    if (!(seconds > 0)) bad("--seconds must be positive");
    if (vs_numpy && model != "sir") bad("--vs-numpy compares the chain-binomial SIR only (--model sir)");
    if (flags.boolean("vs-builtin") != flags.given("model-file"))
        bad("--vs-builtin and --model-file FILE go together (sgnn bench simulate --help)");

    std::unique_ptr<sim::Simulator> simulator;
    try {
        simulator = sim::make_simulator(model);
    } catch (const ConfigError& error) {
        bad(error.what());
    }
    if (simulator->events_per_individual() * population > 1e8) {
        bad("--population " + format_number(population) + ": one exact SSA trajectory would take up to " +
            format_number(simulator->events_per_individual() * population) +
            " events (1e8 at most here); measure a smaller population, the cost grows linearly");
    }
    // Named values from the command line; any other parameter at its default prior's centre.
    const std::map<std::string, double> given = {
        {"R0", r0}, {"infectious_period", period}, {"population", population}, {"initial_infected", initial}};
    const std::vector<double> params = parameter_values(*simulator, given);
    if (flags.given("model-file")) {
        return compare_with_builtin(flags.text("model-file"), given, days, seconds, flags.boolean("json"));
    }

    measure(*simulator, params, days, 1, 0.0);  // warm-up: one round (PETSc start-up, first allocations)
    const Measurement one = measure(*simulator, params, days, 1, seconds);
    const Measurement all = measure(*simulator, params, days, threads, seconds);
    sim::finalize_ode_runtime();  // ODE models started PETSc (and with it MPI)
    io::Json result = {
        {"benchmark", "simulate"},
        {"model", model},
        {"days", days},
        {"population", population},
        {"simulations_per_s_per_core", one.per_second},
        {"threads", threads},
        {"simulations_per_s", all.per_second},
        {"mean_cases", one.mean_cases},
    };
    if (vs_numpy) {
        try {
            const io::Json numpy = run_numpy(flags.text("python"), days, population, r0, period, initial, seconds);
            result["numpy"] = numpy;
            result["ratio_vs_numpy_per_core"] = one.per_second / numpy["simulations_per_s"].get<double>();
        } catch (const std::exception& error) {
            throw std::runtime_error("bench simulate: " + std::string(error.what()));
        }
    }
    if (flags.boolean("json")) {
        std::printf("%s\n", result.dump().c_str());
    } else {
        std::printf(
            "%s, %d days, N = %g: %.0f simulations/s on one core, %.0f on %d threads (mean series total %.0f)\n",
            model.c_str(), days, population, one.per_second, all.per_second, threads, one.mean_cases);
        if (result.contains("ratio_vs_numpy_per_core")) {
            std::printf("NumPy reference: %.0f simulations/s per core; sgnn is %.2fx faster\n",
                        result["numpy"]["simulations_per_s"].get<double>(),
                        result["ratio_vs_numpy_per_core"].get<double>());
        }
    }
    return 0;
}

}  // namespace sgnn::bench
