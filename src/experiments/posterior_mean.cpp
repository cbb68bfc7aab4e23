// The posterior-mean experiment: a network trained with squared loss on simulations
// converges to the Bayes-optimal predictor E[K | data] under the simulation prior.
//
// Logistic growth seen for a few early days through log-normal noise; the target is the
// carrying capacity K, which early data only partly reveal. The reference is the exact
// posterior mean by quadrature of the exact likelihood (analysis/logistic_posterior.hpp).
// For each simulation budget B an SGNN trains on a corpus of B simulations (sgnn
// simulate, then training from it); all are scored on the same held-out series.
//
// Run:     build/sgnn experiment posterior-mean --scale quick              (about a minute)
//          mpiexec -n 4 build/sgnn experiment posterior-mean --scale paper  (jobs/paper/)
// Settings: configs/paper/posterior-mean.cfg. Outputs: risk.csv, predictions.csv, PNG
// figures and summary.json (excess_risk_shrinks, within_10_percent_of_bayes).
//
// Steps: 1. read the budgets and check them against the batch size; 2. draw the
// held-out series and integrate their exact posteriors; 3. per budget, write a corpus,
// train on it and predict; 4. score risks with bootstrap intervals; 5. write the
// tables and the headline claims.
#include "sgnn/experiments/harness.hpp"

#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/analysis/logistic_posterior.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/corpus/corpus_writer.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/run/run.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"
#include "sgnn/train/predictor.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace sgnn::experiments {
io::Json run_posterior_mean(ExperimentContext& context) {
    // 1. The budgets, each at least one global batch, and the training settings.
    const config::OptionReader options(context.options, experiment_options());
    const analysis::LogisticPosteriorSetup setup = logistic_posterior_setup(context);
    std::vector<double> budgets = options.numbers(context.scaled_key("budgets"));
    for (double b : budgets) {
        if (!(b >= 100) || std::floor(b) != b)
            options.fail(context.scaled_key("budgets"), "budgets are whole numbers >= 100");
    }
    std::sort(budgets.begin(), budgets.end());
    const int test_series = options.small_integer(context.scaled_key("test_series"));
    const double epochs = options.number("experiment.epochs");
    const std::int64_t min_steps = options.integer("experiment.min_steps");
    const std::int64_t max_steps = options.integer(context.scaled_key("max_steps"));
    const int resamples = options.small_integer("experiment.bootstrap");
    const bool keep_corpora = options.boolean("experiment.keep_corpora");
    const int ranks = context.mpi->world_size();
    const int trainers = ranks == 1 ? 1 : ranks - 1;
    const auto task = sim::make_task(context.run.task);
    const int days = task->layout().n_inputs;
    const double global_batch = static_cast<double>(context.run.stream.batch_size) * trainers;
    if (budgets.front() < global_batch) {
        options.fail(context.scaled_key("budgets"),
                     "each budget must fill one global batch (" + std::to_string(trainers) + " trainer(s) x " +
                         "stream.batch_size " + std::to_string(context.run.stream.batch_size) + ")");
    }

    // 2. Held-out series from their own stream, and their exact posterior means.
    std::vector<float> inputs(static_cast<std::size_t>(test_series) * static_cast<std::size_t>(days));
    std::vector<float> truth(static_cast<std::size_t>(test_series)), labels(static_cast<std::size_t>(test_series));
    std::vector<std::uint64_t> indices(static_cast<std::size_t>(test_series));
    std::vector<double> posterior_mean(static_cast<std::size_t>(test_series)), posterior_sd(truth.size());
    if (context.is_root()) {
        const auto started = std::chrono::steady_clock::now();
        const sim::GenerateResult made = sim::generate_samples(
            *task, context.run.seed, sim::Purpose::test, 0, test_series, 1.0,
            {indices.data(), inputs.data(), truth.data(), labels.data(), test_series}, omp_get_max_threads());
        if (made.valid != test_series) {
            throw std::runtime_error(std::to_string(made.dropped) +
                                     " test series were dropped; the experiment needs "
                                     "every one (check the priors)");
        }
#pragma omp parallel for schedule(dynamic, 8)
        for (int j = 0; j < test_series; ++j) {
            std::vector<double> y(static_cast<std::size_t>(days));
            for (int t = 0; t < days; ++t) {
                y[static_cast<std::size_t>(t)] =
                    std::expm1(static_cast<double>(inputs[static_cast<std::size_t>(j) * days + t]));
            }
            const analysis::LogisticPosterior post = analysis::logistic_posterior(setup, y.data());
            posterior_mean[static_cast<std::size_t>(j)] = post.mean_k;
            posterior_sd[static_cast<std::size_t>(j)] = post.sd_k;
        }
        std::printf("[sgnn] exact posterior means of %d test series (%d x %d quadrature, two passes) in %s\n",
                    test_series, setup.grid, setup.grid, coord::format_duration(seconds_since(started)).c_str());
        std::fflush(stdout);
    }

    // 3. Per budget: a corpus of that many simulations, a network trained on it (every
    // rank takes part), and its predictions for the held-out series.
    std::vector<std::vector<double>> predictions;
    std::vector<std::int64_t> steps_of;
    for (double budget : budgets) {
        const std::string dir = context.out + "/budget-" + format_number(budget);
        const std::string corpus = dir + "/corpus.h5";
        const auto started = std::chrono::steady_clock::now();
        if (context.is_root()) std::filesystem::create_directories(dir);
        comm::check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        corpus::write_corpus(context.run, static_cast<std::uint64_t>(budget), corpus, 4096, false);
        run::RunConfig run = context.run;
        run.data = corpus;
        run.out = dir;
        run.trainers = trainers;
        run.train.steps = std::clamp<std::int64_t>(std::llround(epochs * budget / global_batch), min_steps, max_steps);
        run.train.eval_every = run.train.steps;
        run.checkpoint_minutes = 0;
        run.schedule.ramp_steps = 0;
        run.train.optimizer.warmup_steps = std::min(run.train.optimizer.warmup_steps, run.train.steps / 10);
        run::RunOptions quiet;
        quiet.quiet = true;
        quiet.replace_earlier_run = true;  // the experiment's own sub-run, from an earlier invocation
        run::run_training(run, *context.mpi, quiet);
        steps_of.push_back(run.train.steps);
        if (context.is_root()) {
            const train::Predictor network(dir + "/model.h5");
            const std::vector<double> out = network.predict(inputs.data(), test_series);
            predictions.push_back(out);  // one target: K
            if (!keep_corpora) std::filesystem::remove(corpus);
            std::printf("[sgnn] budget %s: %lld steps on %d trainer(s) in %s\n", format_number(budget).c_str(),
                        static_cast<long long>(run.train.steps), trainers,
                        coord::format_duration(seconds_since(started)).c_str());
            std::fflush(stdout);
        }
    }
    if (!context.is_root()) return {};

    // 4. Squared errors per series; every interval resamples the same series for all methods.
    // With squared loss the excess risk of a predictor f over the Bayes-optimal f* =
    // E[K | y] is exactly E[(f - f*)^2] (the cross term vanishes), so it is estimated
    // from the distance to the exact posterior mean, which carries none of the noise of
    // K itself; the plain difference of MSEs estimates the same number, much more
    // noisily, and is reported as mse_minus_bayes.
    const std::size_t n = truth.size();
    std::vector<double> bayes_loss(n);
    for (std::size_t j = 0; j < n; ++j) bayes_loss[j] = std::pow(truth[j] - posterior_mean[j], 2);
    const std::uint64_t seed = context.run.seed;
    const analysis::Interval bayes =
        analysis::bootstrap(n, resamples, seed, [&](const auto& s) { return analysis::mean_over(bayes_loss, s); });
    io::Json sgnn_mse = io::Json::object(), excess = io::Json::object(), ratio = io::Json::object(),
             gap_json = io::Json::object(), steps = io::Json::object();
    io::CsvTable risk(context.out + "/risk.csv", {"budget", "steps", "sgnn_mse", "sgnn_mse_low", "sgnn_mse_high",
                                                  "bayes_mse", "excess_risk", "excess_low", "excess_high", "mse_ratio",
                                                  "mse_minus_bayes", "mse_minus_bayes_low", "mse_minus_bayes_high"});
    std::vector<double> excess_estimates;
    for (std::size_t b = 0; b < budgets.size(); ++b) {
        std::vector<double> loss(n), gap(n), to_posterior(n);
        for (std::size_t j = 0; j < n; ++j) {
            loss[j] = std::pow(truth[j] - predictions[b][j], 2);
            gap[j] = loss[j] - bayes_loss[j];
            to_posterior[j] = std::pow(predictions[b][j] - posterior_mean[j], 2);
        }
        const analysis::Interval mse =
            analysis::bootstrap(n, resamples, seed, [&](const auto& s) { return analysis::mean_over(loss, s); });
        const analysis::Interval ex = analysis::bootstrap(
            n, resamples, seed, [&](const auto& s) { return analysis::mean_over(to_posterior, s); });
        const analysis::Interval difference =
            analysis::bootstrap(n, resamples, seed, [&](const auto& s) { return analysis::mean_over(gap, s); });
        const analysis::Interval rel = analysis::bootstrap(n, resamples, seed, [&](const auto& s) {
            return analysis::mean_over(loss, s) / analysis::mean_over(bayes_loss, s);
        });
        const std::string key = format_number(budgets[b]);
        sgnn_mse[key] = interval_json(mse);
        excess[key] = interval_json(ex);
        ratio[key] = interval_json(rel);
        gap_json[key] = interval_json(difference);
        steps[key] = steps_of[b];
        excess_estimates.push_back(ex.estimate);
        risk.add_row({budgets[b], static_cast<double>(steps_of[b]), mse.estimate, mse.low, mse.high, bayes.estimate,
                      ex.estimate, ex.low, ex.high, rel.estimate, difference.estimate, difference.low,
                      difference.high});
    }
    risk.save();

    // 5. The per-series table, and the headline claims for summary.json.
    std::vector<std::string> columns = {"series", "true_k", "posterior_mean_k", "posterior_sd_k"};
    for (double budget : budgets) columns.push_back("sgnn_" + format_number(budget));
    io::CsvTable table(context.out + "/predictions.csv", columns);
    for (std::size_t j = 0; j < n; ++j) {
        std::vector<double> row = {static_cast<double>(j), truth[j], posterior_mean[j], posterior_sd[j]};
        for (const auto& p : predictions) row.push_back(p[j]);
        table.add_row(row);
    }
    table.save();

    bool shrinks = true;
    for (std::size_t b = 1; b < excess_estimates.size(); ++b) shrinks &= excess_estimates[b] < excess_estimates[b - 1];
    const double last_ratio = ratio[format_number(budgets.back())]["estimate"].get<double>();
    io::Json prior_mse;
    {
        double mean = 0.0;
        for (float k : truth) mean += k;
        mean /= static_cast<double>(n);
        double s = 0.0;
        for (float k : truth) s += (k - mean) * (k - mean);
        prior_mse = s / static_cast<double>(n);
    }
    std::printf("[sgnn] Bayes risk %.4g (prior variance %.4g); SGNN MSE / Bayes risk by budget:", bayes.estimate,
                prior_mse.get<double>());
    for (double budget : budgets)
        std::printf(" %s: %.3f", format_number(budget).c_str(), ratio[format_number(budget)]["estimate"].get<double>());
    std::printf("\n");
    return {
        {"task",
         {{"model", "logistic"},
          {"days", days},
          {"target", "carrying_capacity"},
          {"prior", {{"r", {setup.r_low, setup.r_high}}, {"K", {setup.k_low, setup.k_high}}}},
          {"initial_size", setup.initial_size},
          {"noise_sdlog", setup.sdlog}}},
        {"test_series", test_series},
        {"trainers", trainers},
        {"steps", steps},
        {"bayes_mse", interval_json(bayes)},
        {"prior_variance", prior_mse},
        {"sgnn_mse", sgnn_mse},
        {"excess_risk", excess},
        {"mse_ratio", ratio},
        {"mse_minus_bayes", gap_json},
        {"claims_hold", {{"excess_risk_shrinks", shrinks}, {"within_10_percent_of_bayes", last_ratio <= 1.10}}},
        {"tables", {"risk.csv", "predictions.csv"}},
    };
}

}  // namespace sgnn::experiments
