// The mismatch experiment: an SGNN trained on one simulator degrades gracefully when
// reality differs, within the bound R_test <= R_syn + M * TV of a loss bounded by M.
//
// The SGNN learns R0 from the experiment's config (the chain-binomial SIR observed
// through observation model A: reporting and negative-binomial noise). Test sets drift
// from that training distribution in families of steps, with a mismatch level from 0
// (the training distribution) to 1:
//   dynamics       a share `level` of the series from the exact Gillespie SIR
//   reporting      the reporting-rate prior slides towards uniform(0.1, 0.3)
//   overdispersion the dispersion prior slides towards loguniform(0.5, 2)
//   delay          a gamma reporting delay of mean 6 x level days (sd 3 x level)
// At each level the risk is that of the clipped squared loss min((f - R0)^2, M). The
// total-variation distance between the training and the test distribution of (series,
// R0) is estimated with a classifier two-sample test: a logistic regression on the
// network's embedding of the series, R0, R0^2, the prediction and its clipped loss,
// trained on half of a balanced sample of both and scored on the other half; its
// balanced accuracy a gives TV >= 2a - 1. An SIR maximum-likelihood fit (analysis/
// candidates.hpp) is scored with the same loss on the same series.
//
// Run:     build/sgnn experiment mismatch --scale quick              (about a minute)
//          mpiexec -n 4 build/sgnn experiment mismatch --scale paper  (jobs/paper/)
// Settings: configs/paper/mismatch.cfg. Outputs: risk.csv per family and level, PNG figures and summary.json (bound_holds).
#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/analysis/candidates.hpp"
#include "sgnn/analysis/logistic_regression.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/error.hpp"
#include "sgnn/experiments/harness.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/text.hpp"
#include "sgnn/train/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace sgnn::experiments {
namespace {

// The test distribution of a family at a level, as a task config.
sim::TaskConfig shifted(const sim::TaskConfig& base, const std::string& family, double level) {
    sim::TaskConfig c = base;
    const auto between = [&](double from, double to) { return from + level * (to - from); };
    if (level == 0.0) return c;
    if (family == "dynamics") {
        if (level >= 1.0) {
            c.model = "sir_gillespie";
        } else {
            c.model = "mixture";
            c.mixture = {{"sir", 1.0 - level}, {"sir_gillespie", level}};
        }
    } else if (family == "reporting") {
        c.priors["reporting_rate"] =
            "uniform(" + format_number(between(0.3, 0.1)) + ", " + format_number(between(0.9, 0.3)) + ")";
    } else if (family == "overdispersion") {
        c.priors["dispersion"] =
            "loguniform(" + format_number(between(5, 0.5)) + ", " + format_number(between(100, 2)) + ")";
    } else if (family == "delay") {
        c.observation = {"report", "delay", "negbin"};
        c.priors["delay_mean"] = "fixed(" + format_number(6.0 * level) + ")";
        c.priors["delay_sd"] = "fixed(" + format_number(3.0 * level) + ")";
    } else {
        throw ConfigError("experiment.families: unknown family '" + family +
                          "'; choose from dynamics, reporting, overdispersion, delay");
    }
    return c;
}

// Samples of a task with the network's view of them.
struct Scored {
    DrawnSamples samples;
    std::vector<double> prediction;  // R0
    std::vector<float> embedding;
};

Scored score(const train::Predictor& network, const sim::Task& task, std::uint64_t seed, std::uint64_t first,
             int count) {
    Scored s;
    s.samples = draw_samples(task, seed, sim::Purpose::test, first, count);
    s.prediction = network.predict(s.samples.inputs.data(), s.samples.count);
    s.embedding = network.embed(s.samples.inputs.data(), s.samples.count);
    return s;
}

// The classifier two-sample test's features of sample j.
std::vector<double> two_sample_features(const Scored& s, std::size_t j, double bound) {
    const std::size_t width = s.embedding.size() / static_cast<std::size_t>(std::max(1, s.samples.count));
    std::vector<double> f(s.embedding.begin() + static_cast<long>(j * width),
                          s.embedding.begin() + static_cast<long>((j + 1) * width));
    const double r0 = s.samples.targets[j], prediction = s.prediction[j];
    f.push_back(r0);
    f.push_back(r0 * r0);
    f.push_back(prediction);
    f.push_back(std::min((prediction - r0) * (prediction - r0), bound));
    return f;
}

// TV >= 2a - 1 from the balanced accuracy a on held-out halves (clamped at 0).
double tv_lower_bound(const Scored& reference, const Scored& test, double bound, double ridge) {
    const int n = std::min(reference.samples.count, test.samples.count);
    const int half = n / 2;
    std::vector<std::vector<double>> rows;
    std::vector<int> labels;
    for (int j = 0; j < half; ++j) {
        rows.push_back(two_sample_features(reference, static_cast<std::size_t>(j), bound));
        labels.push_back(0);
        rows.push_back(two_sample_features(test, static_cast<std::size_t>(j), bound));
        labels.push_back(1);
    }
    analysis::LogisticRegression classifier;
    classifier.fit(rows, labels, ridge);
    double right_reference = 0, right_test = 0;
    for (int j = half; j < n; ++j) {
        right_reference +=
            classifier.probability(two_sample_features(reference, static_cast<std::size_t>(j), bound)) < 0.5;
        right_test += classifier.probability(two_sample_features(test, static_cast<std::size_t>(j), bound)) >= 0.5;
    }
    const double balanced = 0.5 * (right_reference + right_test) / (n - half);
    return std::max(0.0, 2.0 * balanced - 1.0);
}

}  // namespace

io::Json run_mismatch(ExperimentContext& context) {
    const config::OptionReader options(context.options, experiment_options());
    const sim::TaskConfig& base = context.run.task;
    const double population = daily_sir_population(base, context.name);

    const std::vector<std::string> families = split_list(options.text("experiment.families"));
    std::vector<double> levels = options.numbers(context.scaled_key("levels"));
    std::sort(levels.begin(), levels.end());
    if (levels.empty() || levels.front() != 0.0 || levels.back() > 1.0) {
        options.fail(context.scaled_key("levels"),
                     "mismatch levels lie in [0, 1] and start at 0 (the training distribution)");
    }
    const int n = options.small_integer(context.scaled_key("test_series"));
    const std::int64_t steps = options.integer(context.scaled_key("steps"));
    const double bound = options.number("experiment.loss_bound");
    const double ridge = options.number("experiment.two_sample_ridge");
    const int resamples = options.small_integer("experiment.bootstrap");
    analysis::RestartSettings restarts;
    restarts.random_starts = options.small_integer("experiment.restarts");
    const std::uint64_t seed = context.run.seed;
    for (const auto& family : families) shifted(base, family, 0.5);  // names checked before training

    const double train_seconds = train_streamed(context, context.run, context.out + "/network", steps);
    const auto sir = analysis::make_candidate("sir", population);
    const train::Predictor* network = nullptr;
    std::unique_ptr<train::Predictor> loaded;
    if (context.is_root()) {
        loaded = std::make_unique<train::Predictor>(context.out + "/network/model.h5");
        network = loaded.get();
    }
    // The classifier's reference sample of the training distribution: indices from
    // 2^40 on, disjoint from every test set.
    const auto training_task = sim::make_task(base);
    Scored reference;
    if (network) reference = score(*network, *training_task, seed, 1ull << 40, n);

    const auto clipped = [&](double estimate, double truth) {
        return std::min((estimate - truth) * (estimate - truth), bound);
    };
    io::Json risk = io::Json::object(), tv = io::Json::object(), mle_risk = io::Json::object();
    std::string table = "family,level,tv,risk,risk_low,risk_high,mle_risk,mle_risk_low,mle_risk_high,bound\n";
    double r_syn = 0.0;
    bool bound_holds = true;
    DrawnSamples test, training_test;
    std::vector<double> mle, training_mle;
    for (const auto& family : families) {
        risk[family] = io::Json::object();
        tv[family] = io::Json::object();
        mle_risk[family] = io::Json::object();
        for (double level : levels) {
            const auto started = std::chrono::steady_clock::now();
            // Level 0 is the training distribution in every family: drawn and fitted once.
            const bool training = level == 0.0;
            if (!training || training_mle.empty()) {
                const auto task = sim::make_task(shifted(base, family, level));
                // Every rank draws the same series (cheap) and fits its share of them.
                test = draw_samples(*task, seed, sim::Purpose::test, 0, n);
                const int days = task->layout().n_inputs;
                mle.assign(static_cast<std::size_t>(test.count), 0.0);
                for_my_series(test.count, *context.mpi, "SIR fits", [&](int j) {
                    const std::vector<double> y = observed_counts(test, j, days);
                    mle[static_cast<std::size_t>(j)] =
                        analysis::fit_candidates({sir.get()}, y.data(), days, seed, static_cast<std::uint64_t>(j),
                                                 restarts)[0]
                            .natural[0];
                });
                reduce_to_root(mle, *context.mpi);
                if (training) {
                    training_test = test;
                    training_mle = mle;
                }
            } else {
                test = training_test;
                mle = training_mle;
            }
            if (!network) continue;
            Scored scored;
            scored.samples = test;
            scored.prediction = network->predict(test.inputs.data(), test.count);
            scored.embedding = network->embed(test.inputs.data(), test.count);
            const std::size_t m = static_cast<std::size_t>(test.count);
            std::vector<double> loss(m), mle_loss(m);
            for (std::size_t j = 0; j < m; ++j) {
                loss[j] = clipped(scored.prediction[j], test.targets[j]);
                mle_loss[j] = clipped(mle[j], test.targets[j]);
            }
            const analysis::Interval r =
                analysis::bootstrap(m, resamples, seed, [&](const auto& s) { return analysis::mean_over(loss, s); });
            const analysis::Interval q = analysis::bootstrap(
                m, resamples, seed, [&](const auto& s) { return analysis::mean_over(mle_loss, s); });
            if (level == 0.0 && family == families.front()) r_syn = r.estimate;
            const double distance = level == 0.0 ? 0.0 : tv_lower_bound(reference, scored, bound, ridge);
            const std::string key = format_number(level);
            risk[family][key] = interval_json(r);
            mle_risk[family][key] = interval_json(q);
            tv[family][key] = distance;
            const double limit = r_syn + bound * distance;
            // The bound is on the expected risk: compare it with the risk's interval.
            bound_holds &= r.low <= limit;
            char row[320];
            std::snprintf(row, sizeof row, "%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", family.c_str(),
                          key.c_str(), distance, r.estimate, r.low, r.high, q.estimate, q.low, q.high, limit);
            table += row;
            std::printf("[sgnn]   %s %s: TV >= %.3f, SGNN risk %.4f (bound %.4f), SIR MLE risk %.4f, in %s\n",
                        family.c_str(), key.c_str(), distance, r.estimate, limit, q.estimate,
                        coord::format_duration(seconds_since(started)).c_str());
            std::fflush(stdout);
        }
    }
    if (!context.is_root()) return {};
    io::write_file_atomically(context.out + "/risk.csv", table);
    return {
        {"task", {{"model", "sir"}, {"target", "R0"}, {"days", training_task->layout().n_inputs}}},
        {"families", families},
        {"levels", levels},
        {"test_series", n},
        {"steps", steps},
        {"train_seconds", train_seconds},
        {"loss_bound", bound},
        {"r_syn", r_syn},
        {"risk", risk},
        {"tv", tv},
        {"mle_risk", mle_risk},
        {"bound_holds", bound_holds},
        {"claims_hold", {{"bound_holds", bound_holds}}},
        {"tables", {"risk.csv"}},
    };
}

}  // namespace sgnn::experiments
