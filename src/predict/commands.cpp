#include "sgnn/predict/commands.hpp"

#include "sgnn/analysis/bootstrap.hpp"

#include "sgnn/config/options.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/observation_csv.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"
#include "sgnn/train/predictor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace sgnn::predict {
namespace {

const char* kPredictHelp = R"TXT(sgnn predict - posterior summaries and draws for observed series

Reads observations as the training run's observation model shapes them and reports,
for each one and each target, the posterior mean, sd and the 2.5, 5, 25, 50, 75, 95
and 97.5% quantiles (from 10,000 posterior draws, or --samples if more). A network
trained with model.head = mean gives the posterior mean only; flow and mixture heads
give the whole posterior. A mixture's mechanism probabilities follow as P(NAME).

Sample runs:
  build/sgnn predict --model runs/sir/model.h5 --data obs.csv
  build/sgnn predict --run runs/sir --data a.csv,b.csv --samples 10000 --out posterior.csv

  --model FILE   a trained network (model.h5; the config.ini of its run is read from
                 the same directory)
  --run DIR      the same given as the training run: DIR/model.h5, DIR/config.ini
  --data FILES   observations, comma-separated; each a CSV as sgnn attribute reads it:
                 a header row, one row per day, one column per series of the model
                 (day/date/t columns are ignored), sim.days rows
  --samples N    also N posterior draws per observation, written to the --out file's
                 twin with the extension .h5 (flow and mixture heads)
  --seed S       seed of the posterior draws (default 1): the same seed, the same draws
  --out FILE     the summary table as CSV, replaced atomically (default: printed)

Output columns: series (the data file's name without .csv), target, mean, sd, q2.5,
q5, q25, q50, q75, q95, q97.5. The draws file holds one float64 dataset per series,
/draws/SERIES of shape (N, targets), its columns named by the root attribute columns,
and /log_density/SERIES (N): the posterior log-density of each draw.
)TXT";

std::vector<config::OptionSpec> predict_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"model", Type::text, "", "a trained network (model.h5)"},
        {"run", Type::text, "", "the training run (DIR/model.h5, DIR/config.ini)"},
        {"data", Type::text, "", "observation CSVs, comma-separated"},
        {"samples", Type::integer, "0", "posterior draws per observation to write", 0, 1e8},
        {"seed", Type::integer, "1", "seed of the posterior draws", 0, 9e15},
        {"out", Type::text, "", "the summary CSV"},
    };
}

std::string csv_number(double v) {
    if (!std::isfinite(v)) return "";
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", v);
    return text;
}

}  // namespace

int predict_command(run::Session& session) {
    std::vector<std::string> args = session.args();
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            std::printf("%s", kPredictHelp);
            return 0;
        }
    }
    try {
        // 1. The flags.
        const config::CommandFlags flags(args, predict_flags());
        if (!args.empty()) {
            throw ConfigError("sgnn predict: unknown argument '" + printable(args[0]) + "' (sgnn predict --help)");
        }
        const run::TrainedModel trained = run::trained_model(flags.text("run"), flags.text("model"));
        const std::string& run_dir = trained.run_dir;
        const std::string& model = trained.model;
        const std::vector<std::string> data = split_list(flags.text("data"));
        if (run_dir.empty() || data.empty()) {
            throw ConfigError("sgnn predict needs --model FILE (or --run DIR) and --data FILE (sgnn predict --help)");
        }
        const auto samples = static_cast<std::int64_t>(flags.integer("samples"));
        const auto seed = static_cast<std::uint64_t>(flags.integer("seed"));
        const std::string out = flags.text("out");
        if (samples > 0 && out.empty()) throw ConfigError("--samples: give --out FILE.csv; the draws go to FILE.h5");
        const std::string draws_file =
            samples > 0 ? std::filesystem::path(out).replace_extension(".h5").string() : std::string();
        if (!out.empty()) io::require_replaceable(out);
        if (!draws_file.empty()) io::require_replaceable(draws_file);

        // 2. MPI before anything else: PETSc (an ODE task) would start it otherwise.
        if (session.start_mpi().world_size() > 1) {
            throw ConfigError("sgnn predict runs on one process; start it without mpiexec");
        }

        // 3. The network and the observations, read as the run's observation model
        //    shapes them.
        const run::RunConfig config = run::read_run_config(run_dir);
        const auto task = sim::make_task(config.task);
        const sim::SampleLayout& layout = task->layout();
        const train::Predictor network(model);
        if (network.n_inputs() != layout.n_inputs || network.target_names() != layout.target_names) {
            throw ConfigError("--model " + model + ": not the network of the run in " + run_dir +
                              " (its inputs or targets differ from config.ini's)");
        }
        if (samples > 0 && !network.has_density()) {
            throw ConfigError("--samples: " + model +
                              " was trained with model.head = mean and gives posterior means only, no draws; train "
                              "it again with model.head = flow or mixture");
        }
        const bool missing = std::find(config.task.observation.begin(), config.task.observation.end(), "missing") !=
                             config.task.observation.end();
        const int n_t = layout.n_targets();
        const std::int64_t summary_draws = std::max<std::int64_t>(samples, 10000);

        // 4. Each observation: its summaries, and its draws.
        std::string table = "series,target,mean,sd";
        for (double p : summary_percentiles()) table += ",q" + format_number(p);
        table += "\n";
        std::vector<io::Dataset> draws;
        for (std::size_t i = 0; i < data.size(); ++i) {
            const std::vector<float> inputs = io::read_observation_csv(
                data[i], layout.n_inputs / layout.n_channels, layout.n_channels, config.task.transform, missing);
            const std::string series = std::filesystem::path(data[i]).stem().string();
            const std::vector<double> means = network.predict(inputs.data(), 1);
            std::vector<double> sample;
            if (network.has_density()) sample = network.sample(inputs.data(), 1, summary_draws, seed + i);
            for (int j = 0; j < n_t; ++j) {
                table += series + "," + layout.target_names[static_cast<std::size_t>(j)];
                if (sample.empty()) {
                    table += "," + csv_number(means[static_cast<std::size_t>(j)]) + ",";
                    for (std::size_t q = 0; q < summary_percentiles().size(); ++q) table += ",";
                    table += "\n";
                    continue;
                }
                std::vector<double> column(static_cast<std::size_t>(summary_draws));
                for (std::int64_t k = 0; k < summary_draws; ++k) column[k] = sample[k * n_t + j];
                double sum = 0.0, sum_sq = 0.0;
                for (double v : column) sum += v;
                const double mean = sum / static_cast<double>(column.size());
                for (double v : column) sum_sq += (v - mean) * (v - mean);
                std::sort(column.begin(), column.end());
                table += "," + csv_number(mean) + "," + csv_number(std::sqrt(sum_sq / (column.size() - 1.0)));
                for (double p : summary_percentiles())
                    table += "," + csv_number(analysis::quantile_of_sorted(column, p / 100.0));
                table += "\n";
            }
            for (int c = 0; c < layout.n_classes(); ++c) {
                table += series + ",P(" + layout.class_names[static_cast<std::size_t>(c)] + ")," +
                         csv_number(means[static_cast<std::size_t>(n_t + c)]) + ",";
                for (std::size_t q = 0; q < summary_percentiles().size(); ++q) table += ",";
                table += "\n";
            }
            if (samples > 0) {
                const std::vector<double> first(sample.begin(), sample.begin() + samples * n_t);
                std::vector<float> repeated;
                repeated.reserve(static_cast<std::size_t>(samples) * inputs.size());
                for (std::int64_t k = 0; k < samples; ++k)
                    repeated.insert(repeated.end(), inputs.begin(), inputs.end());
                draws.push_back(io::make_dataset(
                    "/draws/" + series, first, {static_cast<std::uint64_t>(samples), static_cast<std::uint64_t>(n_t)}));
                draws.push_back(io::make_dataset("/log_density/" + series,
                                                 network.log_density(repeated.data(), first.data(), samples)));
            }
        }

        // 5. The outputs.
        if (out.empty()) {
            std::printf("%s", table.c_str());
        } else {
            io::write_file_atomically(out, table);
            std::printf("[sgnn] posterior summaries of %zu observation(s) in %s\n", data.size(), out.c_str());
            std::fflush(stdout);
        }
        if (!network.has_density()) {
            std::fprintf(stderr,
                         "[sgnn] note: %s has model.head = mean: the table holds posterior means only (train with "
                         "model.head = flow or mixture for intervals)\n",
                         model.c_str());
        }
        if (samples > 0) {
            io::write_datasets_collectively(MPI_COMM_SELF, draws_file, draws,
                                            {{"format", "sgnn-posterior-draws"},
                                             {"columns", join_list(layout.target_names)},
                                             {"model", model},
                                             {"seed", std::to_string(seed)}});
            std::printf("[sgnn] %lld posterior draws per observation in %s\n", static_cast<long long>(samples),
                        draws_file.c_str());
        }
    } catch (const ConfigError&) {
        throw;
    } catch (const std::runtime_error& error) {
        // Everything predict reads is the user's input: a damaged file is exit 2 too.
        throw ConfigError(error.what());
    }
    return 0;
}

}  // namespace sgnn::predict
