// The posterior-mean experiment: a network trained with squared loss on simulations
// converges to the Bayes-optimal predictor E[K | data] under the simulation prior.
//
// Logistic growth seen for a few early days through log-normal noise; the target is the
// carrying capacity K, which early data only partly reveal. The reference is the exact
// posterior mean by quadrature of the exact likelihood (analysis/logistic_posterior.hpp).
// For each simulation budget B an SGNN trains on a corpus of B simulations (sgnn
// simulate, then training from it); all are scored on the same held-out series. At the
// largest budget a flow (model.head = flow) trains on the same corpus, and its whole
// posterior of K is scored against the exact one (experiment.flow_check).
//
// Run:     build/sgnn experiment posterior-mean --scale quick              (about a minute)
//          mpiexec -n 4 build/sgnn experiment posterior-mean --scale paper  (jobs/paper/)
// Settings: configs/paper/posterior-mean.cfg. Outputs: risk.csv, predictions.csv,
// flow_coverage.csv, flow_c2st.csv, PNG figures and summary.json (excess_risk_shrinks,
// within_10_percent_of_bayes, flow_coverage_within_1pp).
//
// Steps: 1. read the budgets and check them against the batch size; 2. draw the
// held-out series and integrate their exact posteriors; 3. per budget, write a corpus,
// train on it and predict (and at the largest, train the flow); 4. score risks with
// bootstrap intervals, and the flow's intervals and draws against the exact posterior;
// 5. write the tables and the headline claims.
#include "sgnn/experiments/harness.hpp"

#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/analysis/logistic_posterior.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/corpus/corpus_writer.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/run/run.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/random.hpp"
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
namespace {

// The exact posterior's CDF of K and draws from it. The quadrature's second pass puts
// K's marginal on cells of equal width in log K (midpoint rule), so within a cell the
// mass is spread uniformly in log K.
class ExactMarginal {
public:
    explicit ExactMarginal(const analysis::LogisticPosterior& post) : log_k_(post.k_values.size()) {
        for (std::size_t j = 0; j < log_k_.size(); ++j) log_k_[j] = std::log(post.k_values[j]);
        width_ = log_k_.size() > 1 ? log_k_[1] - log_k_[0] : 1.0;
        cumulative_.resize(post.k_weights.size() + 1, 0.0);
        for (std::size_t j = 0; j < post.k_weights.size(); ++j) cumulative_[j + 1] = cumulative_[j] + post.k_weights[j];
    }
    double cdf(double k) const {
        const double cells = (std::log(k) - (log_k_.front() - 0.5 * width_)) / width_;
        if (cells <= 0.0) return 0.0;
        const auto n = log_k_.size();
        if (cells >= static_cast<double>(n)) return cumulative_.back();
        const auto i = static_cast<std::size_t>(cells);
        return cumulative_[i] + (cumulative_[i + 1] - cumulative_[i]) * (cells - static_cast<double>(i));
    }
    double draw(sim::SampleStream& stream) const {
        const double u = stream.uniform() * cumulative_.back();
        const auto i = static_cast<std::size_t>(std::min<std::ptrdiff_t>(
            std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin() - 1,
            static_cast<std::ptrdiff_t>(log_k_.size()) - 1));
        return std::exp(log_k_[i] + (stream.uniform() - 0.5) * width_);
    }

private:
    std::vector<double> log_k_, cumulative_;
    double width_ = 1.0;
};

// The flow of flow_dir against the exact posteriors of the held-out series: for each
// central interval of the flow's draws, the exact posterior mass inside it (its true
// coverage, free of the noise of one truth per series) and how often the truth falls
// inside; and C2ST of flow draws against exact draws for the first c2st_series series.
io::Json flow_against_exact(const ExperimentContext& context, const std::string& flow_dir,
                            const std::vector<float>& inputs, const std::vector<float>& truth,
                            const std::vector<analysis::LogisticPosterior>& exact, int coverage_draws, int c2st_series,
                            int c2st_draws, int resamples) {
    const auto started = std::chrono::steady_clock::now();
    const train::Predictor flow(flow_dir + "/model.h5");
    const auto n = static_cast<int>(truth.size());
    const std::uint64_t seed = context.run.seed;
    const std::vector<double> draws = flow.sample(inputs.data(), n, coverage_draws, seed);
    const std::vector<double> levels = {0.5, 0.8, 0.9, 0.95};
    std::vector<std::vector<double>> mass(levels.size(), std::vector<double>(static_cast<std::size_t>(n)));
    std::vector<std::vector<double>> inside(levels.size(), std::vector<double>(static_cast<std::size_t>(n)));
#pragma omp parallel for schedule(dynamic, 16)
    for (int j = 0; j < n; ++j) {
        std::vector<double> k(draws.begin() + static_cast<std::ptrdiff_t>(j) * coverage_draws,
                              draws.begin() + static_cast<std::ptrdiff_t>(j + 1) * coverage_draws);
        std::sort(k.begin(), k.end());
        const ExactMarginal marginal(exact[static_cast<std::size_t>(j)]);
        for (std::size_t l = 0; l < levels.size(); ++l) {
            const double low = analysis::quantile_of_sorted(k, 0.5 - levels[l] / 2);
            const double high = analysis::quantile_of_sorted(k, 0.5 + levels[l] / 2);
            mass[l][static_cast<std::size_t>(j)] = marginal.cdf(high) - marginal.cdf(low);
            inside[l][static_cast<std::size_t>(j)] =
                truth[static_cast<std::size_t>(j)] >= low && truth[static_cast<std::size_t>(j)] <= high;
        }
    }
    io::CsvTable coverage(context.out + "/flow_coverage.csv", {"level", "exact_mass", "exact_mass_low",
                                                               "exact_mass_high", "truth_inside", "truth_inside_se"});
    io::Json levels_json = io::Json::object();
    double max_gap = 0.0;
    for (std::size_t l = 0; l < levels.size(); ++l) {
        const analysis::Interval m =
            analysis::bootstrap(static_cast<std::size_t>(n), resamples, seed,
                                [&](const auto& s) { return analysis::mean_over(mass[l], s); });
        double hits = 0.0;
        for (double v : inside[l]) hits += v;
        const double frequency = hits / n, se = std::sqrt(levels[l] * (1 - levels[l]) / n);
        max_gap = std::max(max_gap, std::fabs(m.estimate - levels[l]));
        coverage.add_row({levels[l], m.estimate, m.low, m.high, frequency, se});
        levels_json[format_number(levels[l] * 100)] = {{"nominal", levels[l]},
                                                       {"exact_mass", interval_json(m)},
                                                       {"truth_inside", frequency},
                                                       {"truth_inside_se", se}};
    }
    coverage.save();

    // C2ST: c2st_draws of each, for the first c2st_series series, scored on every core.
    io::make_directories(context.out + "/flow-draws");
    std::vector<std::pair<std::string, std::string>> pairs;
    char cell[32];
    for (int j = 0; j < c2st_series; ++j) {
        const std::vector<double> k = flow.sample(inputs.data() + static_cast<std::ptrdiff_t>(j) * flow.n_inputs(), 1,
                                                  c2st_draws, seed + 1 + static_cast<std::uint64_t>(j));
        const ExactMarginal marginal(exact[static_cast<std::size_t>(j)]);
        sim::SampleStream stream(seed, sim::Purpose::baseline, static_cast<std::uint64_t>(j));
        std::string flow_text = "carrying_capacity\n", exact_text = flow_text;
        for (int d = 0; d < c2st_draws; ++d) {
            std::snprintf(cell, sizeof cell, "%.9g\n", k[static_cast<std::size_t>(d)]);
            flow_text += cell;
            std::snprintf(cell, sizeof cell, "%.9g\n", marginal.draw(stream));
            exact_text += cell;
        }
        const std::string stem = context.out + "/flow-draws/series-" + std::to_string(j);
        io::write_file_atomically(stem + "-exact.csv", exact_text);
        io::write_file_atomically(stem + "-flow.csv", flow_text);
        pairs.emplace_back(stem + "-exact.csv", stem + "-flow.csv");
    }
    const std::vector<double> c2st =
        c2st_series > 0 ? c2st_scores(pairs, context.out + "/flow-draws/pairs.csv", std::max(1, omp_get_num_procs()))
                        : std::vector<double>();
    io::CsvTable c2st_table(context.out + "/flow_c2st.csv", {"series", "c2st"});
    double c2st_sum = 0.0;
    for (std::size_t j = 0; j < c2st.size(); ++j) {
        c2st_table.add_row({static_cast<double>(j), c2st[j]});
        c2st_sum += c2st[j];
    }
    c2st_table.save();
    const double c2st_mean = c2st.empty() ? std::nan("") : c2st_sum / static_cast<double>(c2st.size());
    std::printf("[sgnn] flow at the largest budget: exact posterior mass of its central 50/80/90/95%% intervals");
    for (std::size_t l = 0; l < levels.size(); ++l)
        std::printf(" %.4f", levels_json[format_number(levels[l] * 100)]["exact_mass"]["estimate"].get<double>());
    std::printf(" (largest gap %.4f); C2ST against exact draws %.3f over %zu series; %s\n", max_gap, c2st_mean,
                c2st.size(), coord::format_duration(seconds_since(started)).c_str());
    std::fflush(stdout);
    return {{"model", flow_dir + "/model.h5"},
            {"coverage_draws", coverage_draws},
            {"coverage", levels_json},
            {"max_coverage_gap", max_gap},
            {"c2st_draws", c2st_draws},
            {"c2st", c2st},
            {"c2st_mean", c2st.empty() ? io::Json() : io::Json(c2st_mean)}};
}

}  // namespace

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
    const bool flow_check = options.boolean("experiment.flow_check");
    const int c2st_series = std::min(options.small_integer(context.scaled_key("c2st_series")), test_series);
    const int c2st_draws = options.small_integer(context.scaled_key("posterior_draws"));
    const int coverage_draws = options.small_integer("experiment.coverage_draws");
    const std::string flow_dir = context.out + "/budget-" + format_number(budgets.back()) + "/flow";
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
    std::vector<analysis::LogisticPosterior> exact(static_cast<std::size_t>(test_series));  // K's marginals
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
            exact[static_cast<std::size_t>(j)] = analysis::logistic_posterior(setup, y.data());
            posterior_mean[static_cast<std::size_t>(j)] = exact[static_cast<std::size_t>(j)].mean_k;
            posterior_sd[static_cast<std::size_t>(j)] = exact[static_cast<std::size_t>(j)].sd_k;
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
        if (flow_check && budget == budgets.back()) {
            // The same corpus, the same training, a flow head: the whole posterior of K.
            run.out = flow_dir;
            run.train.model.head = "flow";
            run::run_training(run, *context.mpi, quiet);
        }
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

    // 4b. The flow's posterior of K at the largest budget against the exact one.
    const io::Json flow = flow_check ? flow_against_exact(context, flow_dir, inputs, truth, exact, coverage_draws,
                                                          c2st_series, c2st_draws, resamples)
                                     : io::Json();

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
    io::Json claims = {{"excess_risk_shrinks", shrinks}, {"within_10_percent_of_bayes", last_ratio <= 1.10}};
    io::Json tables = {"risk.csv", "predictions.csv"};
    if (flow_check) {
        claims["flow_coverage_within_1pp"] = flow["max_coverage_gap"].get<double>() <= 0.01;
        tables.push_back("flow_coverage.csv");
        tables.push_back("flow_c2st.csv");
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
        {"claims_hold", claims},
        {"flow", flow},
        {"tables", tables},
    };
}

}  // namespace sgnn::experiments
