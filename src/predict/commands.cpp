#include "sgnn/predict/commands.hpp"

#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/config/options.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/installation.hpp"
#include "sgnn/io/observation_csv.hpp"
#include "sgnn/io/subprocess.hpp"
#include "sgnn/predict/inputs.hpp"
#include "sgnn/predict/out_of_distribution.hpp"
#include "sgnn/predict/predictive_check.hpp"
#include "sgnn/run/options.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"
#include "sgnn/train/predictor.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>

namespace sgnn::predict {
namespace {

const char* kPredictHelp = R"TXT(sgnn predict - posteriors for observed series, with a check that each fits

Reads observed series, shapes them as the training run's observation model shaped its
simulations, and reports for each series and target the posterior mean, sd and the
2.5, 5, 25, 50, 75, 95 and 97.5% quantiles (from 10,000 posterior draws, or --samples
if more). A target learned as a logarithm (log_R0) also gets a row on its natural
scale (R0, from the same draws). A network trained with model.head = mean gives
posterior means only; flow and mixture heads give whole posteriors. A mixture's
mechanism probabilities follow as P(NAME).

Each series is also placed among simulations from the run's prior in the network's
embedding: a series beyond the 99th percentile of held-out simulations gets a WARNING
line saying what to change (its posterior is then an extrapolation). With a flow or
mixture head, 500 replicates simulated from posterior draws through the run's own
simulator and observation model check that the model reproduces the series (a
posterior predictive check: a per-day band and a p-value; below 0.01 a WARNING).

Sample runs:
  build/sgnn predict --run runs/flu --data data/outbreaks --out runs/flu/outbreaks.csv
  build/sgnn predict --model runs/sir/model.h5 --data a.csv,b.csv --samples 10000 --out posterior.csv

  --model FILE   a trained network (model.h5; the config.ini of its run is read from
                 the same directory)
  --run DIR      the same given as the training run: DIR/model.h5, DIR/config.ini
  --data FILES   CSV files or folders of them (every *.csv inside), comma-separated.
                 A file holds one series per column after an optional time column
                 (date, dates, day or t), or, in long form, a column series (or id),
                 a time column and one column of counts; see docs/real-data.md.
                 A series may be shorter than sim.days when the network was trained
                 with the truncate observation step; it is padded with missing days
  --samples N    also N posterior draws per series in the .h5 file (flow and mixture)
  --seed S       seed of the posterior draws (default 1): the same seed, the same draws
  --out FILE     the summary table as CSV (default: printed); beside it FILE_series.csv
                 (one row per series: length, first date, out-of-distribution score,
                 predictive check), FILE.h5 (all of it, and the draws), each replaced
                 atomically, and FILE_figures/ (PNG: SERIES_check.png, the series over
                 its posterior predictive band; SERIES_posterior.png, each target's
                 posterior against its prior)
  --figures N    draw figures of the first N series only (default 50; 0: none)

Output columns: series, target, mean, sd, q2.5, q5, q25, q50, q75, q95, q97.5.
FILE_series.csv: series, file, length, first_date, ood_distance, ood_percentile,
ood_warning, ppc_p_value, ppc_outside_95, ppc_replicates. FILE.h5 (h5py): root attributes columns (the targets) and series; for each
series /observed/SERIES (channels x length, NaN for missing), /summary/SERIES (rows
of summary_rows x mean, sd, quantiles), /ood/SERIES (distance, percentile),
/embedding/SERIES (the network's embedding of it), with a flow or mixture head
/predictive/SERIES (5 band quantiles x channels x length) and /predictive_check/SERIES
(p-value, entries outside the 95% band, replicates), /prior_draws (draws of the
targets' prior), and for flow and mixture heads /draws/SERIES (N x targets; N is
--samples, or 1,000) and /log_density/SERIES (N).
)TXT";

std::vector<config::OptionSpec> predict_flags() {
    using Type = config::OptionSpec::Type;
    return {
        {"model", Type::text, "", "a trained network (model.h5)"},
        {"run", Type::text, "", "the training run (DIR/model.h5, DIR/config.ini)"},
        {"data", Type::text, "", "observation CSVs or folders of them, comma-separated"},
        {"samples", Type::integer, "0", "posterior draws per observation to write", 0, 1e8},
        {"seed", Type::integer, "1", "seed of the posterior draws", 0, 9e15},
        {"out", Type::text, "", "the summary CSV"},
        {"figures", Type::integer, "50", "series to draw figures of (the first ones)", 0, 1e9},
    };
}

// Posterior draws stored per series when --samples is not given (for the figures).
constexpr std::int64_t kPlotDraws = 1000;

std::string csv_number(double v) {
    if (!std::isfinite(v)) return "";
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", v);
    return text;
}

// One observed series with where it came from and what the network makes of it.
struct Observation {
    io::ObservedSeries series;
    std::string file;
    std::vector<float> inputs;
    double total = 0.0;  // its count (NaN for series that are not counts)
};

// Summary rows of one target's draws: mean, sd, the quantiles.
std::string summary_row(const std::string& series, const std::string& target, std::vector<double> column,
                        std::vector<double>& numbers) {
    double sum = 0.0, sum_sq = 0.0;
    for (double v : column) sum += v;
    const double mean = sum / static_cast<double>(column.size());
    for (double v : column) sum_sq += (v - mean) * (v - mean);
    std::sort(column.begin(), column.end());
    const double sd = std::sqrt(sum_sq / (static_cast<double>(column.size()) - 1.0));
    std::string row = series + "," + target + "," + csv_number(mean) + "," + csv_number(sd);
    numbers.push_back(mean);
    numbers.push_back(sd);
    for (double p : summary_percentiles()) {
        const double q = analysis::quantile_of_sorted(column, p / 100.0);
        row += "," + csv_number(q);
        numbers.push_back(q);
    }
    return row + "\n";
}

// An HDF5 path component for a series name ('/' would make groups).
std::string h5_name(std::string name) {
    std::replace(name.begin(), name.end(), '/', '_');
    return name;
}

std::string stem_of(const std::string& out) {
    const std::filesystem::path path(out);
    return path.extension() == ".csv" ? (path.parent_path() / path.stem()).string() : out;
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
        const std::vector<std::string> files = observation_files(flags.text("data"));
        if (run_dir.empty() || files.empty()) {
            throw ConfigError("sgnn predict needs --model FILE (or --run DIR) and --data FILE (sgnn predict --help)");
        }
        const auto samples = static_cast<std::int64_t>(flags.integer("samples"));
        const auto seed = static_cast<std::uint64_t>(flags.integer("seed"));
        const std::string out = flags.text("out");
        if (samples > 0 && out.empty()) throw ConfigError("--samples: give --out FILE.csv; the draws go to FILE.h5");
        const std::string stem = stem_of(out);
        const std::string table_file = out.empty() ? "" : stem + ".csv", series_file = stem + "_series.csv",
                          h5_file = stem + ".h5";
        if (!out.empty()) {
            for (const auto& f : {table_file, series_file, h5_file}) io::require_replaceable(f);
        }

        // 2. MPI before anything else: PETSc (an ODE task) would start it otherwise.
        if (session.start_mpi().world_size() > 1) {
            throw ConfigError("sgnn predict runs on one process; start it without mpiexec");
        }

        // 3. The network, and its run's task.
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
        const InputShape shape = InputShape::of(config.task, layout);

        // 4. Every series, shaped as the network's inputs (all read before any work,
        //    so that a bad file is reported at once).
        std::vector<Observation> observations;
        for (SeriesInFile& read : read_series(files, shape.channels)) {
            Observation o{std::move(read.series), read.file, {}, 0.0};
            o.inputs = network_inputs(o.series, shape, o.file);
            o.total = shape.log1p ? 0.0 : std::numeric_limits<double>::quiet_NaN();
            for (double v : o.series.values) {
                if (shape.log1p && !std::isnan(v)) o.total += v;
            }
            observations.push_back(std::move(o));
        }

        // 5. Posterior summaries, draws, and the out-of-distribution check.
        const int n_t = layout.n_targets();
        const std::int64_t summary_draws = std::max<std::int64_t>(samples, 10000);
        std::string table = "series,target,mean,sd";
        for (double p : summary_percentiles()) table += ",q" + format_number(p);
        table += "\n";
        std::string series_table =
            "series,file,length,first_date,ood_distance,ood_percentile,ood_warning,ppc_p_value,ppc_outside_95,"
            "ppc_replicates\n";
        const PredictiveChecker checker(*task, layout.target_names, shape);
        const std::int64_t stored_draws = samples > 0 ? samples : kPlotDraws;
        std::vector<std::string> summary_rows;  // the row names of /summary/SERIES
        std::vector<io::Dataset> datasets;
        std::vector<std::string> warnings;
        std::map<int, std::unique_ptr<SimulationReference>> references;  // by series length
        for (std::size_t i = 0; i < observations.size(); ++i) {
            const Observation& o = observations[i];
            const std::string& name = o.series.name;
            const std::vector<double> means = network.predict(o.inputs.data(), 1);
            std::vector<double> sample;
            if (network.has_density()) sample = network.sample(o.inputs.data(), 1, summary_draws, seed + i);
            std::vector<double> numbers;
            std::vector<std::string> rows;
            const std::size_t stats = 2 + summary_percentiles().size();
            for (int j = 0; j < n_t; ++j) {
                const std::string& target = layout.target_names[static_cast<std::size_t>(j)];
                if (sample.empty()) {
                    table += name + "," + target + "," + csv_number(means[static_cast<std::size_t>(j)]) + ",";
                    for (std::size_t q = 0; q < summary_percentiles().size(); ++q) table += ",";
                    table += "\n";
                    numbers.push_back(means[static_cast<std::size_t>(j)]);
                    numbers.insert(numbers.end(), stats - 1, std::numeric_limits<double>::quiet_NaN());
                    rows.push_back(target);
                    continue;
                }
                std::vector<double> column(static_cast<std::size_t>(summary_draws));
                for (std::int64_t k = 0; k < summary_draws; ++k) column[k] = sample[k * n_t + j];
                table += summary_row(name, target, column, numbers);
                rows.push_back(target);
            }
            // Targets learned as logarithms, on their natural scale (the same draws).
            for (int j = 0; sample.size() > 0 && j < n_t; ++j) {
                const std::string& target = layout.target_names[static_cast<std::size_t>(j)];
                const std::string natural = target.substr(4);
                if (target.rfind("log_", 0) != 0 || std::find(layout.target_names.begin(), layout.target_names.end(),
                                                              natural) != layout.target_names.end()) {
                    continue;
                }
                std::vector<double> column(static_cast<std::size_t>(summary_draws));
                for (std::int64_t k = 0; k < summary_draws; ++k) column[k] = std::exp(sample[k * n_t + j]);
                table += summary_row(name, natural, column, numbers);
                rows.push_back(natural);
            }
            for (int c = 0; c < layout.n_classes(); ++c) {
                const std::string row = "P(" + layout.class_names[static_cast<std::size_t>(c)] + ")";
                const double p = means[static_cast<std::size_t>(n_t + c)];
                table += name + "," + row + "," + csv_number(p) + ",";
                for (std::size_t q = 0; q < summary_percentiles().size(); ++q) table += ",";
                table += "\n";
                numbers.push_back(p);
                numbers.insert(numbers.end(), stats - 1, std::numeric_limits<double>::quiet_NaN());
                rows.push_back(row);
            }
            if (summary_rows.empty()) summary_rows = rows;

            // Where the series lies among simulations of its length.
            auto& reference = references[o.series.length];
            if (!reference) {
                reference = std::make_unique<SimulationReference>(*task, network, shape, config.seed, o.series.length,
                                                                  omp_get_max_threads());
            }
            const std::vector<float> embedding = network.embed(o.inputs.data(), 1);
            const OutOfDistribution ood = reference->score(embedding, o.total);
            if (i == 0) {
                const std::vector<float>& prior = reference->prior_targets();
                datasets.push_back(io::make_dataset(
                    "/prior_draws", std::vector<double>(prior.begin(), prior.end()),
                    {prior.size() / static_cast<std::size_t>(std::max(1, n_t)), static_cast<std::uint64_t>(n_t)}));
            }
            // The posterior predictive check, where the posterior covers every parameter.
            PredictiveCheck ppc;
            if (!sample.empty() && checker.unavailable().empty()) {
                ppc = checker.check(o.series, sample, summary_draws, seed, i);
                if (!ppc.band.empty()) {
                    datasets.push_back(
                        io::make_dataset("/predictive_check/" + h5_name(name),
                                         std::vector<double>{ppc.p_value, static_cast<double>(ppc.outside_95),
                                                             static_cast<double>(ppc.replicates)}));
                    datasets.push_back(io::make_dataset(
                        "/predictive/" + h5_name(name), ppc.band,
                        {5, static_cast<std::uint64_t>(shape.channels), static_cast<std::uint64_t>(o.series.length)}));
                }
            }
            const bool checked = ppc.replicates > 0 && !ppc.band.empty();
            series_table += name + "," + o.file + "," + std::to_string(o.series.length) + "," + o.series.first_date +
                            "," + csv_number(ood.distance) + "," + csv_number(ood.percentile) + "," +
                            (ood.warn ? "1" : "0") + "," + (checked ? csv_number(ppc.p_value) : "") + "," +
                            (checked ? std::to_string(ppc.outside_95) : "") + "," + std::to_string(ppc.replicates) +
                            "\n";
            if (checked && ppc.p_value < 0.01) {
                warnings.push_back("[sgnn] WARNING: series '" + name + "' fails the posterior predictive check (p = " +
                                   csv_number(ppc.p_value) + ", " + std::to_string(ppc.outside_95) + " of " +
                                   std::to_string(o.series.length * shape.channels) +
                                   " entries outside the replicates' 95% band): the model does not reproduce it "
                                   "with any posterior parameters; see its _check.png");
            }
            if (ood.warn) {
                char percentile[32];
                std::snprintf(percentile, sizeof percentile, "%.1f", ood.percentile);
                warnings.push_back("[sgnn] WARNING: series '" + name + "' (" + o.file +
                                   ") lies outside what the network was trained on: its embedding is farther from "
                                   "the simulations than " +
                                   percentile + "% of held-out simulations are; " + ood.advice +
                                   ". Its posterior is an extrapolation.");
            }

            const std::string key = h5_name(name);
            datasets.push_back(io::make_dataset(
                "/observed/" + key, o.series.values,
                {static_cast<std::uint64_t>(shape.channels), static_cast<std::uint64_t>(o.series.length)}));
            datasets.push_back(
                io::make_dataset("/summary/" + key, numbers, {static_cast<std::uint64_t>(rows.size()), stats}));
            datasets.push_back(io::make_dataset("/ood/" + key, std::vector<double>{ood.distance, ood.percentile}));
            datasets.push_back(io::make_dataset("/embedding/" + key, embedding));
            if (!sample.empty()) {
                const std::vector<double> first(sample.begin(), sample.begin() + stored_draws * n_t);
                std::vector<float> repeated;
                repeated.reserve(static_cast<std::size_t>(stored_draws) * o.inputs.size());
                for (std::int64_t k = 0; k < stored_draws; ++k)
                    repeated.insert(repeated.end(), o.inputs.begin(), o.inputs.end());
                datasets.push_back(
                    io::make_dataset("/draws/" + key, first,
                                     {static_cast<std::uint64_t>(stored_draws), static_cast<std::uint64_t>(n_t)}));
                datasets.push_back(io::make_dataset("/log_density/" + key,
                                                    network.log_density(repeated.data(), first.data(), stored_draws)));
            }
        }

        // 6. The outputs.
        if (out.empty()) {
            std::printf("%s", table.c_str());
        } else {
            io::write_file_atomically(table_file, table);
            io::write_file_atomically(series_file, series_table);
            std::string names;
            for (const auto& o : observations) names += (names.empty() ? "" : ",") + o.series.name;
            std::string statistics = "mean,sd";
            for (double p : summary_percentiles()) statistics += ",q" + format_number(p);
            io::write_datasets_collectively(MPI_COMM_SELF, h5_file, datasets,
                                            {{"format", "sgnn-predictions"},
                                             {"columns", join_list(layout.target_names)},
                                             {"summary_rows", join_list(summary_rows)},
                                             {"summary_statistics", statistics},
                                             {"series", names},
                                             {"model", model},
                                             {"seed", std::to_string(seed)},
                                             {"draws", std::to_string(network.has_density() ? stored_draws : 0)}});
            std::printf("[sgnn] posterior summaries of %zu series in %s (per series: %s; HDF5: %s)\n",
                        observations.size(), table_file.c_str(), series_file.c_str(), h5_file.c_str());
            if (samples > 0) {
                std::printf("[sgnn] %lld posterior draws per series in %s\n", static_cast<long long>(samples),
                            h5_file.c_str());
            }
            // The figures: each series over its predictive band, each target's
            // posterior against its prior (scripts/plot_predictions.py).
            const std::string script = io::installed_file("scripts/plot_predictions.py");
            const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
            const std::int64_t figures =
                std::min<std::int64_t>(flags.integer("figures"), static_cast<std::int64_t>(observations.size()));
            const io::ProcessResult drawn =
                script.empty() || figures == 0
                    ? io::ProcessResult{}
                    : io::run_process({python, script, h5_file, stem + "_figures", std::to_string(figures)},
                                      io::ChildStderr::merge);
            if (figures == 0) {
                // none asked for
            } else if (drawn.started && drawn.exit_code == 0) {
                std::printf("[sgnn] figures in %s_figures/ (SERIES_check.png, SERIES_posterior.png)\n", stem.c_str());
            } else {
                std::printf("[sgnn] figures not drawn (%s)\n",
                            script.empty()
                                ? "scripts/plot_predictions.py is not installed with this sgnn"
                                : ("python3 with h5py and matplotlib: " + drawn.output.substr(0, 300)).c_str());
            }
            std::fflush(stdout);
        }
        if (!network.has_density()) {
            const bool logs = std::any_of(layout.target_names.begin(), layout.target_names.end(),
                                          [](const std::string& t) { return t.rfind("log_", 0) == 0; });
            std::fprintf(
                stderr,
                "[sgnn] note: %s has model.head = mean: the table holds posterior means only (train with "
                "model.head = flow or mixture for intervals)%s\n",
                model.c_str(),
                logs ? "; a log_ target's mean is in log units (exp of it is not the mean of the quantity)" : "");
        }
        if (!network.has_density()) {
            std::fprintf(stderr,
                         "[sgnn] note: no posterior predictive check: it simulates from posterior draws, "
                         "which a mean head does not give\n");
        } else if (!checker.unavailable().empty()) {
            std::fprintf(stderr, "[sgnn] note: no posterior predictive check: %s\n", checker.unavailable().c_str());
        } else if (!checker.from_prior().empty()) {
            std::fprintf(stderr,
                         "[sgnn] note: the predictive check draws %s from the prior (not targets of the network); "
                         "its band is wider than the posterior's would be, so it errs towards passing\n",
                         checker.from_prior().c_str());
        }
        for (const auto& w : warnings) std::fprintf(stderr, "%s\n", w.c_str());
        std::fflush(stderr);
    } catch (const ConfigError&) {
        throw;
    } catch (const std::runtime_error& error) {
        // Everything predict reads is the user's input: a damaged file is exit 2 too.
        throw ConfigError(error.what());
    }
    return 0;
}

}  // namespace sgnn::predict
