#include "sgnn/bank/commands.hpp"

#include "sgnn/bank/memory_bank.hpp"
#include "sgnn/bank/nearest.hpp"
#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/corpus/corpus_writer.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/bank_file.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/io/observation_csv.hpp"
#include "sgnn/predict/inputs.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/text.hpp"
#include "sgnn/train/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

namespace sgnn::bank {
namespace {

const char* kBankHelp = R"TXT(sgnn bank - a memory bank of embedded simulations for attribution

Simulates samples 0..N-1 of the `bank` random stream (never trained on) under a
training run's configuration, embeds each with the run's network (its penultimate
layer) and writes them to one HDF5 file with collective writes from every rank.

Sample runs:
  build/sgnn bank --run runs/qs --samples 100000 --out bank.h5
  mpiexec -n 4 build/sgnn bank --run runs/qs --samples 1e6 --out bank.h5

  --run DIR      a finished training run (its config.ini and model.h5)
  --samples N    simulations in the bank (required)
  --out FILE     the bank file (default DIR/bank.h5), replaced atomically
On SIGTERM or SIGUSR1 every rank stops within about a second, the temporary file is
removed and the exit status is 75.
Layout: embeddings (N, width) float32, parameters (N, n_params) float64, targets,
labels (mechanism index), indices, valid; attributes name the columns.
)TXT";

const char* kAttributeHelp = R"TXT(sgnn attribute - explain a prediction by the nearest training-like simulations

Embeds an observed series with a trained network's penultimate layer, finds the k
nearest simulations in a memory bank (sgnn bank) and prints their parameters and
mechanisms, and the distribution the neighbours form: the attributed posterior.

Sample runs:
  build/sgnn attribute --model runs/qs/model.h5 --bank bank.h5 --data obs.csv
  build/sgnn attribute --run runs/qs --bank bank.h5 --data obs.csv --k 50 --json

  --model FILE   the network that made the bank (a model.h5; the config.ini of its
                 training run is read from the same directory)
  --run DIR      the same given as the training run: DIR/model.h5, DIR/config.ini
  --bank FILE    the memory bank (sgnn bank)
  --data FILES   observed series, read as sgnn predict reads them (sgnn predict
                 --help): CSV files or folders of them; a wide CSV with one column per series, or a long one with a
                 series column; a date, dates, day or t column gives the time. A series
                 shorter than sim.days is padded as missing when the network was trained
                 with the truncate step
  --series NAME  attribute only this series of the file (default: every series)
  --k K          neighbours (default: the square root of the bank size)
  --show N       neighbours listed one by one (default 10)
  --json         print one JSON object per series, one per line, instead of tables
)TXT";

struct Summary {
    double mean, sd, q05, q50, q95;
};

Summary summarize(std::vector<double> values) {
    Summary s{};
    if (values.empty()) return {std::nan(""), std::nan(""), std::nan(""), std::nan(""), std::nan("")};
    std::sort(values.begin(), values.end());
    const double n = static_cast<double>(values.size());
    s.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    double ss = 0.0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.sd = values.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
    const auto q = [&](double p) { return values[static_cast<std::size_t>(std::lround(p * (n - 1)))]; };
    s.q05 = q(0.05), s.q50 = q(0.5), s.q95 = q(0.95);
    return s;
}

// The flags of `sgnn bank` and `sgnn attribute` (their help texts above).
std::vector<config::OptionSpec> bank_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"run", Type::text, "", "a finished training run"},
        {"samples", Type::integer, "", "simulations in the bank (required)", 1, 1e9},
        {"out", Type::text, "", "the bank file (default DIR/bank.h5)"},
    };
}

std::vector<config::OptionSpec> attribute_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"model", Type::text, "", "the network that made the bank"},
        {"run", Type::text, "", "the training run (DIR/model.h5, DIR/config.ini)"},
        {"bank", Type::text, "", "the memory bank"},
        {"data", Type::text, "", "the observed series (CSV)"},
        {"series", Type::text, "", "attribute only this series of the file"},
        {"k", Type::integer, "", "neighbours", 1, 1e9},
        {"show", Type::integer, "10", "neighbours listed one by one", 0, 1e6},
        {"json", Type::boolean, "false", "print one JSON object"},
    };
}

}  // namespace

int bank_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            std::printf("%s", kBankHelp);
            return 0;
        }
    }
    const config::CommandFlags flags(args, bank_flags());
    if (!args.empty()) throw ConfigError("sgnn bank: unknown argument '" + printable(args[0]) + "' (sgnn bank --help)");
    const std::string run_dir = flags.text("run");
    if (run_dir.empty()) throw ConfigError("sgnn bank needs --run DIR, a finished training run");
    if (!flags.given("samples")) throw ConfigError("sgnn bank needs --samples N");
    const auto samples = static_cast<std::uint64_t>(flags.integer("samples"));
    const std::string out = flags.given("out") ? flags.text("out") : run_dir + "/bank.h5";
    corpus::require_output_file(out, "--out");
    const run::RunConfig config = run::read_run_config(run_dir);

    const comm::MpiSession& mpi = session.start_mpi();
    session.set_role("bank");
    checkpoint::install_stop_signal_handlers();
    const StopScope stop_abandons_the_bank;  // the temporary is removed, nothing is half-written
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t width = write_memory_bank(config, run_dir, samples, out);
    if (mpi.world_rank() == 0) {
        std::printf("[sgnn] wrote %s: %s embedded simulations (width %llu) in %s\n", out.c_str(),
                    coord::format_count(static_cast<double>(samples)).c_str(), static_cast<unsigned long long>(width),
                    coord::format_duration(seconds_since(started)).c_str());
    }
    return 0;
}

namespace {

// The k valid bank rows nearest to embedding `q`, nearest first, as (distance, bank
// index); k is `requested`, or the square root of the valid rows when 0, and at most
// their number. Invalid rows (dropped samples, NaN embeddings) are never neighbours:
// they lie at infinity.
std::vector<std::pair<double, std::size_t>> nearest_rows(const io::MemoryBank& memory, const std::vector<float>& q,
                                                         std::size_t requested, const std::string& bank,
                                                         std::size_t& valid_count) {
    const std::uint64_t n = memory.samples;
    valid_count = static_cast<std::size_t>(
        std::count_if(memory.valid.begin(), memory.valid.end(), [](std::uint8_t v) { return v != 0; }));
    const std::size_t k = std::min(
        valid_count, requested == 0 ? static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(valid_count))))
                                    : requested);
    if (k == 0) throw ConfigError("--bank " + bank + ": no valid simulations to attribute to");
    std::vector<double> squared;
    squared_distances(q.data(), memory.embeddings.data(), static_cast<int>(q.size()), static_cast<int>(n), squared);
    for (std::size_t i = 0; i < n; ++i) {
        if (!memory.valid[i]) squared[i] = std::numeric_limits<double>::infinity();
    }
    std::vector<std::pair<double, std::size_t>> rows;
    for (int i : nearest(squared, static_cast<int>(n), static_cast<int>(k))) {
        rows.emplace_back(std::sqrt(squared[static_cast<std::size_t>(i)]), static_cast<std::size_t>(i));
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

// What `sgnn attribute --json` prints: the network's prediction, the distribution of
// each parameter over the neighbours, their mechanism shares, the `show` nearest.
io::Json attribution_result(const train::Predictor& network, const std::vector<double>& prediction,
                            const io::MemoryBank& memory, const std::vector<std::pair<double, std::size_t>>& rows,
                            int show) {
    const std::vector<std::string>& parameter_names = memory.parameter_names;
    const std::vector<std::string>& class_names = memory.class_names;
    const std::size_t k = rows.size(), n_p = parameter_names.size();
    const std::vector<double>& params = memory.parameters;
    io::Json result;
    io::Json predicted = io::Json::object();
    for (std::size_t t = 0; t < network.target_names().size(); ++t)
        predicted[network.target_names()[t]] = prediction[t];
    for (std::size_t c = 0; c < network.class_names().size(); ++c) {
        predicted["P(" + network.class_names()[c] + ")"] = prediction[network.target_names().size() + c];
    }
    result["network_prediction"] = predicted;
    io::Json attributed = io::Json::object();
    for (std::size_t p = 0; p < n_p; ++p) {
        std::vector<double> values;
        for (std::size_t r = 0; r < k; ++r) {
            const double v = params[rows[r].second * n_p + p];
            if (std::isfinite(v)) values.push_back(v);
        }
        const Summary s = summarize(values);
        attributed[parameter_names[p]] = {{"mean", s.mean},  {"sd", s.sd},   {"q05", s.q05},
                                          {"median", s.q50}, {"q95", s.q95}, {"neighbours_with_it", values.size()}};
    }
    result["attributed"] = attributed;
    if (!class_names.empty()) {
        io::Json shares = io::Json::object();
        for (std::size_t c = 0; c < class_names.size(); ++c) {
            std::size_t count = 0;
            for (std::size_t r = 0; r < k; ++r) count += memory.labels[rows[r].second] == static_cast<std::int64_t>(c);
            shares[class_names[c]] = static_cast<double>(count) / static_cast<double>(k);
        }
        result["mechanism_shares"] = shares;
    }
    io::Json neighbours = io::Json::array();
    for (std::size_t r = 0; r < std::min<std::size_t>(k, static_cast<std::size_t>(std::max(0, show))); ++r) {
        const std::size_t i = rows[r].second;
        io::Json row = {{"bank_index", i}, {"distance", rows[r].first}};
        if (!class_names.empty() && memory.labels[i] >= 0)
            row["mechanism"] = class_names[static_cast<std::size_t>(memory.labels[i])];
        for (std::size_t p = 0; p < n_p; ++p) {
            if (std::isfinite(params[i * n_p + p])) row[parameter_names[p]] = params[i * n_p + p];
        }
        neighbours.push_back(row);
    }
    result["nearest"] = neighbours;
    return result;
}

// The same as tables.
void print_attribution(const io::Json& result) {
    std::printf("series %s (%d %s", result["series"].get<std::string>().c_str(), result["length"].get<int>(),
                result["unit"].get<std::string>().c_str());
    if (!result["first_date"].get<std::string>().empty())
        std::printf(" from %s", result["first_date"].get<std::string>().c_str());
    std::printf(")\nnetwork prediction:");
    for (auto& [name, value] : result["network_prediction"].items()) {
        std::printf(" %s = %.4g", name.c_str(), value.get<double>());
    }
    std::printf("\nattributed distribution of the %zu nearest of %zu simulations (embedding distance):\n",
                result["k"].get<std::size_t>(), result["bank_size"].get<std::size_t>());
    std::printf("  %-24s %12s %12s %12s %12s %12s\n", "parameter", "mean", "sd", "5%", "median", "95%");
    for (auto& [name, s] : result["attributed"].items()) {
        std::printf("  %-24s %12.5g %12.5g %12.5g %12.5g %12.5g\n", name.c_str(), s["mean"].get<double>(),
                    s["sd"].get<double>(), s["q05"].get<double>(), s["median"].get<double>(), s["q95"].get<double>());
    }
    if (result.contains("mechanism_shares")) {
        std::printf("mechanisms among the neighbours:");
        for (auto& [name, share] : result["mechanism_shares"].items())
            std::printf(" %s %.2f", name.c_str(), share.get<double>());
        std::printf("\n");
    }
    std::printf("nearest simulations:\n");
    for (const auto& row : result["nearest"]) std::printf("  %s\n", row.dump().c_str());
}

}  // namespace

int attribute_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            std::printf("%s", kAttributeHelp);
            return 0;
        }
    }
    try {
        // 1. The flags.
        const config::CommandFlags flags(args, attribute_flags());
        if (!args.empty()) {
            throw ConfigError("sgnn attribute: unknown argument '" + printable(args[0]) + "' (sgnn attribute --help)");
        }
        const run::TrainedModel trained = run::trained_model(flags.text("run"), flags.text("model"));
        const std::string& run_dir = trained.run_dir;
        const std::string& model = trained.model;
        const std::string bank = flags.text("bank");
        const std::string data = flags.text("data");
        const std::size_t k = flags.given("k") ? static_cast<std::size_t>(flags.integer("k")) : 0;  // 0: sqrt(bank)
        const int show = static_cast<int>(flags.integer("show"));
        const bool json = flags.boolean("json");
        if (run_dir.empty() || bank.empty() || data.empty()) {
            throw ConfigError(
                "sgnn attribute needs --model FILE (or --run DIR), --bank FILE and --data FILE "
                "(sgnn attribute --help)");
        }

        // 2. The observed series, shaped as the run's observation model would have
        //    made them (sgnn predict's reading: padded when the network reads partial
        //    series), all read before any work so that a bad file is reported at once.
        const run::RunConfig config = run::read_run_config(run_dir);
        const auto task = sim::make_task(config.task);
        const predict::InputShape shape = predict::InputShape::of(config.task, task->layout());
        std::vector<predict::SeriesInFile> observed =
            predict::read_series(predict::observation_files(data), shape.channels);
        if (flags.given("series")) {
            const std::string wanted = flags.text("series");
            const auto named = std::find_if(observed.begin(), observed.end(),
                                            [&](const predict::SeriesInFile& s) { return s.series.name == wanted; });
            if (named == observed.end()) {
                std::string names;
                for (const auto& s : observed) names += (names.empty() ? "" : ", ") + printable(s.series.name);
                throw ConfigError("--series " + printable(wanted) + ": --data " + data +
                                  " has no such series (it has " + names + ")");
            }
            observed = {*named};
        }
        std::vector<std::vector<float>> inputs;
        for (const auto& read : observed) inputs.push_back(predict::network_inputs(read.series, shape, read.file));
        const train::Predictor network(model);

        // 3. The bank, searched in place for the nearest simulations of each series.
        io::MemoryBank memory;
        try {
            memory = io::read_memory_bank(bank);
        } catch (const std::exception& error) {
            throw ConfigError("--bank " + std::string(error.what()));
        }
        for (std::size_t s = 0; s < observed.size(); ++s) {
            const std::vector<float> q = network.embed(inputs[s].data(), 1);
            const std::vector<double> prediction = network.predict(inputs[s].data(), 1);
            if (memory.width != q.size()) {
                throw ConfigError("--bank " + bank + ": embeddings of width " + std::to_string(memory.width) +
                                  ", but " + model + " embeds into " + std::to_string(q.size()) +
                                  "; make the bank with this run's network");
            }
            std::size_t valid_count = 0;
            const auto rows = nearest_rows(memory, q, k, bank, valid_count);

            // 4. What they say, as JSON or tables.
            const io::ObservedSeries& series = observed[s].series;
            io::Json result = {{"observation", observed[s].file}, {"series", series.name},
                               {"length", series.length},         {"unit", shape.unit},
                               {"first_date", series.first_date}, {"bank", bank},
                               {"bank_size", valid_count},        {"k", rows.size()}};
            result.update(attribution_result(network, prediction, memory, rows, show));
            if (json) {
                std::printf("%s\n", result.dump().c_str());
            } else {
                if (s > 0) std::printf("\n");
                print_attribution(result);
            }
        }
    } catch (const ConfigError&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw ConfigError(
            "out of memory reading the bank or the model; a bank of that many simulations needs more "
            "memory than this machine has (make a smaller one with sgnn bank --samples)");
    } catch (const std::exception& error) {
        // Everything attribute reads is the user's input: a damaged file is exit 2 too.
        throw ConfigError(error.what());
    }
    return 0;
}

}  // namespace sgnn::bank
