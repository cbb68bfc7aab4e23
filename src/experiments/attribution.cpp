// The attribution experiment: back-to-simulation attribution is posterior-consistent.
//
// An SGNN trained on the posterior-mean task (logistic growth, target K) embeds every
// series with its penultimate layer. For a held-out series, the k = sqrt(N) nearest
// simulations of a memory bank of N form the attributed distribution of K; as N grows
// from 1e3 to 1e6 it must approach the exact posterior of K (quadrature,
// analysis/logistic_posterior.hpp), measured by the Wasserstein-1 distance between the two.
// Banks are nested (the bank of N is the first N simulations of the `bank` stream), so
// one pass of distances serves every size. The reference floor is the W1 between the
// exact posterior and k independent draws from it: what k neighbours could reach at best.
//
// On model selection (experiment.mechanism_pair), the share of each mechanism among
// the neighbours is compared with the SGNN classifier's probabilities.
//
// Run:     build/sgnn experiment attribution --scale quick              (a few minutes)
//          mpiexec -n 4 build/sgnn experiment attribution --scale paper  (jobs/paper/)
// Settings: configs/paper/attribution.cfg. Outputs: w1.csv, mechanism shares, PNG figures and summary.json (w1_shrinks).
#include "sgnn/bank/nearest.hpp"
#include "sgnn/experiments/harness.hpp"

#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/analysis/logistic_posterior.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/error.hpp"
#include "sgnn/io/csv.hpp"
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
#include <numeric>

namespace sgnn::experiments {
namespace {

// W1 between an empirical distribution (equal weights) and a discrete one (values,
// weights summing to 1): the integral of |F - G| over the merged support.
double wasserstein1(std::vector<double> sample, const std::vector<double>& values, const std::vector<double>& weights) {
    std::sort(sample.begin(), sample.end());
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    const double step = 1.0 / static_cast<double>(sample.size());
    double f = 0.0, g = 0.0, x = 0.0, total = 0.0;
    std::size_t i = 0, j = 0;
    bool started = false;
    while (i < sample.size() || j < order.size()) {
        const bool take_sample = j >= order.size() || (i < sample.size() && sample[i] <= values[order[j]]);
        const double next = take_sample ? sample[i] : values[order[j]];
        if (started) total += std::fabs(f - g) * (next - x);
        x = next;
        started = true;
        if (take_sample) {
            f += step;
            ++i;
        } else {
            g += weights[order[j]];
            ++j;
        }
    }
    return total;
}

}  // namespace

io::Json run_attribution(ExperimentContext& context) {
    // 1. Bank sizes, test series and the training settings.
    const config::OptionReader options(context.options, experiment_options());
    const analysis::LogisticPosteriorSetup setup = logistic_posterior_setup(context);
    std::vector<double> sizes = options.numbers(context.scaled_key("bank_sizes"));
    for (double b : sizes) {
        if (!(b >= 16) || std::floor(b) != b || b > 2e7) {
            options.fail(context.scaled_key("bank_sizes"), "bank sizes are whole numbers in [16, 2e7]");
        }
    }
    std::sort(sizes.begin(), sizes.end());
    const int test_series = options.small_integer(context.scaled_key("test_series"));
    const std::int64_t steps = options.integer(context.scaled_key("steps"));
    const int resamples = options.small_integer("experiment.bootstrap");
    const std::string mechanism_pair = options.text("experiment.mechanism_pair");
    const int mechanism_bank = options.small_integer(context.scaled_key("mechanism_bank"));
    const std::int64_t mechanism_steps = options.integer(context.scaled_key("mechanism_steps"));
    const std::uint64_t seed = context.run.seed;

    const double train_seconds = train_streamed(context, context.run, context.out + "/network", steps);
    run::RunConfig mechanism_run;
    if (!mechanism_pair.empty()) {
        mechanism_run = run::make_run_config(
            config::parse_options({"--config", paper_config(mechanism_pair)}, experiment_options()));
        if (mechanism_run.task.model != "mixture" ||
            mechanism_run.task.targets != std::vector<std::string>{sim::kMechanismTarget}) {
            throw ConfigError(paper_config(mechanism_pair) +
                              ": experiment.mechanism_pair needs a mixture classified "
                              "by mechanism (sim.model = mixture, sim.targets = mechanism)");
        }
        train_streamed(context, mechanism_run, context.out + "/mechanisms", mechanism_steps);
    }
    if (!context.is_root()) return {};

    // 2. The bank and the test series, embedded.
    auto started = std::chrono::steady_clock::now();
    const auto task = sim::make_task(context.run.task);
    const int days = task->layout().n_inputs;
    const int largest = static_cast<int>(sizes.back());
    const train::Predictor network(context.out + "/network/model.h5");
    const DrawnSamples bank = draw_samples(*task, seed, sim::Purpose::bank, 0, largest);
    const DrawnSamples test = draw_samples(*task, seed, sim::Purpose::test, 0, test_series);
    if (bank.count < largest || test.count < test_series) {
        throw std::runtime_error("simulations were dropped from the bank or test set; the nested banks need all");
    }
    const std::vector<float> bank_embedding = network.embed(bank.inputs.data(), largest);
    const std::vector<float> test_embedding = network.embed(test.inputs.data(), test_series);
    const int width = static_cast<int>(bank_embedding.size() / static_cast<std::size_t>(largest));
    std::printf("[sgnn]   bank of %d simulations and %d test series embedded (width %d) in %s\n", largest, test_series,
                width, coord::format_duration(seconds_since(started)).c_str());

    // 3. Exact posteriors, then every bank size's neighbours of every test series.
    started = std::chrono::steady_clock::now();
    const std::size_t n_sizes = sizes.size(), n = static_cast<std::size_t>(test_series);
    std::vector<double> w1(n * n_sizes), floor(n * n_sizes), mean_error(n * n_sizes), sd_error(n * n_sizes);
    std::vector<double> attributed_mean(n * n_sizes), posterior_mean(n), posterior_sd(n);
#pragma omp parallel for schedule(dynamic, 4)
    for (int j = 0; j < test_series; ++j) {
        const std::size_t jj = static_cast<std::size_t>(j);
        std::vector<double> y(static_cast<std::size_t>(days));
        for (int t = 0; t < days; ++t)
            y[static_cast<std::size_t>(t)] = std::expm1(static_cast<double>(test.inputs[jj * days + t]));
        const analysis::LogisticPosterior post = analysis::logistic_posterior(setup, y.data());
        posterior_mean[jj] = post.mean_k;
        posterior_sd[jj] = post.sd_k;
        std::vector<float> distance;
        bank::squared_distances(test_embedding.data() + jj * width, bank_embedding.data(), width, largest, distance);
        // Cumulative weights of the posterior lattice, for the floor's draws.
        std::vector<double> cumulative(post.k_weights.size());
        std::partial_sum(post.k_weights.begin(), post.k_weights.end(), cumulative.begin());
        for (std::size_t b = 0; b < n_sizes; ++b) {
            const int size = static_cast<int>(sizes[b]);
            const int k = std::max(1, static_cast<int>(std::lround(std::sqrt(sizes[b]))));
            std::vector<double> ks;
            for (int i : bank::nearest(distance, size, k)) ks.push_back(bank.targets[static_cast<std::size_t>(i)]);
            const double mean = std::accumulate(ks.begin(), ks.end(), 0.0) / k;
            double var = 0.0;
            for (double v : ks) var += (v - mean) * (v - mean);
            const double sd = std::sqrt(var / std::max(1, k - 1));
            const std::size_t at = jj * n_sizes + b;
            w1[at] = wasserstein1(ks, post.k_values, post.k_weights);
            attributed_mean[at] = mean;
            mean_error[at] = std::fabs(mean - post.mean_k);
            sd_error[at] = std::fabs(sd - post.sd_k);
            // k independent draws from the exact posterior (Philox: seed, test stream,
            // counter 2^32 + series, a block per size).
            sim::SampleStream rng(seed, sim::Purpose::test, (1ull << 32) + jj * 64 + b);
            std::vector<double> draws(static_cast<std::size_t>(k));
            for (double& v : draws) {
                const double u = rng.uniform() * cumulative.back();
                v = post.k_values[static_cast<std::size_t>(std::lower_bound(cumulative.begin(), cumulative.end(), u) -
                                                           cumulative.begin())];
            }
            floor[at] = wasserstein1(draws, post.k_values, post.k_weights);
        }
    }
    std::printf("[sgnn]   exact posteriors and nearest neighbours of %d series in %s\n", test_series,
                coord::format_duration(seconds_since(started)).c_str());

    io::Json w1_json = io::Json::object(), floor_json = io::Json::object(), mean_json = io::Json::object(),
             sd_json = io::Json::object(), k_json = io::Json::object();
    io::CsvTable table(context.out + "/w1.csv",
                       {"bank_size", "k", "w1", "w1_low", "w1_high", "w1_floor", "mean_abs_error", "mean_abs_error_low",
                        "mean_abs_error_high", "sd_abs_error"});
    std::vector<double> w1_estimates;
    for (std::size_t b = 0; b < n_sizes; ++b) {
        const auto column = [&](const std::vector<double>& v) {
            std::vector<double> c(n);
            for (std::size_t j = 0; j < n; ++j) c[j] = v[j * n_sizes + b];
            return c;
        };
        const std::vector<double> w = column(w1), f = column(floor), m = column(mean_error), sdv = column(sd_error);
        const auto mean_of = [&](const std::vector<double>& v) {
            return analysis::bootstrap(n, resamples, seed, [&](const auto& r) { return analysis::mean_over(v, r); });
        };
        const analysis::Interval wi = mean_of(w), fi = mean_of(f), mi = mean_of(m), si = mean_of(sdv);
        const std::string key = format_number(sizes[b]);
        const int k = std::max(1, static_cast<int>(std::lround(std::sqrt(sizes[b]))));
        w1_json[key] = interval_json(wi);
        floor_json[key] = interval_json(fi);
        mean_json[key] = interval_json(mi);
        sd_json[key] = interval_json(si);
        k_json[key] = k;
        w1_estimates.push_back(wi.estimate);
        table.add_row({sizes[b], static_cast<double>(k), wi.estimate, wi.low, wi.high, fi.estimate, mi.estimate, mi.low,
                       mi.high, si.estimate});
    }
    table.save();
    {
        std::vector<std::string> columns = {"series", "true_k", "posterior_mean_k", "posterior_sd_k"};
        for (double size : sizes) columns.push_back("attributed_mean_" + format_number(size));
        io::CsvTable series(context.out + "/series.csv", columns);
        for (std::size_t j = 0; j < n; ++j) {
            std::vector<double> row = {static_cast<double>(j), test.targets[j], posterior_mean[j], posterior_sd[j]};
            for (std::size_t b = 0; b < n_sizes; ++b) row.push_back(attributed_mean[j * n_sizes + b]);
            series.add_row(row);
        }
        series.save();
    }
    bool shrinks = true;
    for (std::size_t b = 1; b < w1_estimates.size(); ++b) shrinks &= w1_estimates[b] < w1_estimates[b - 1];
    std::printf("[sgnn]   W1(attributed, exact posterior of K) by bank size:");
    for (std::size_t b = 0; b < n_sizes; ++b)
        std::printf(" %s: %.4g", format_number(sizes[b]).c_str(), w1_estimates[b]);
    std::printf("\n");

    io::Json mechanisms = nullptr;
    if (!mechanism_pair.empty()) {
        // Mechanism shares among the neighbours against the classifier's probabilities.
        started = std::chrono::steady_clock::now();
        const auto mixture = sim::make_task(mechanism_run.task);
        const train::Predictor classifier(context.out + "/mechanisms/model.h5");
        const DrawnSamples m_bank = draw_samples(*mixture, mechanism_run.seed, sim::Purpose::bank, 0, mechanism_bank);
        const DrawnSamples m_test = draw_samples(*mixture, mechanism_run.seed, sim::Purpose::test, 0, test_series);
        const std::vector<float> e_bank = classifier.embed(m_bank.inputs.data(), m_bank.count);
        const std::vector<float> e_test = classifier.embed(m_test.inputs.data(), m_test.count);
        const std::vector<double> out = classifier.predict(m_test.inputs.data(), m_test.count);
        const int m_width = static_cast<int>(e_bank.size() / static_cast<std::size_t>(m_bank.count));
        const std::size_t out_width = out.size() / static_cast<std::size_t>(m_test.count);
        const int k = std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(m_bank.count)))));
        const std::size_t m = static_cast<std::size_t>(m_test.count);
        std::vector<double> share(m), probability(m), gap(m), share_wrong(m), sgnn_wrong(m);
#pragma omp parallel for schedule(dynamic, 4)
        for (int j = 0; j < m_test.count; ++j) {
            const std::size_t jj = static_cast<std::size_t>(j);
            std::vector<float> distance;
            bank::squared_distances(e_test.data() + jj * m_width, e_bank.data(), m_width, m_bank.count, distance);
            int ones = 0;
            for (int i : bank::nearest(distance, m_bank.count, k))
                ones += m_bank.labels[static_cast<std::size_t>(i)] > 0.5f;
            share[jj] = static_cast<double>(ones) / k;
            probability[jj] = out[jj * out_width + out_width - 1];
            gap[jj] = std::fabs(share[jj] - probability[jj]);
            const int label = m_test.labels[jj] > 0.5f ? 1 : 0;
            share_wrong[jj] = (share[jj] > 0.5 ? 1 : 0) != label;
            sgnn_wrong[jj] = (probability[jj] > 0.5 ? 1 : 0) != label;
        }
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (std::size_t j = 0; j < m; ++j) {
            sx += share[j], sy += probability[j], sxx += share[j] * share[j], syy += probability[j] * probability[j];
            sxy += share[j] * probability[j];
        }
        const double dm = static_cast<double>(m);
        const double correlation = (sxy - sx * sy / dm) / std::sqrt((sxx - sx * sx / dm) * (syy - sy * sy / dm));
        const auto mean_of = [&](const std::vector<double>& v) {
            return analysis::bootstrap(m, resamples, seed, [&](const auto& r) { return analysis::mean_over(v, r); });
        };
        io::CsvTable shares(context.out + "/mechanism_shares.csv", {"series", "label", "neighbour_share_1", "sgnn_p1"});
        for (std::size_t j = 0; j < m; ++j)
            shares.add_row({static_cast<double>(j), m_test.labels[j], share[j], probability[j]});
        shares.save();
        mechanisms = {{"pair", mechanism_pair},
                      {"mechanisms", mixture->layout().class_names},
                      {"bank_size", m_bank.count},
                      {"k", k},
                      {"test_series", m_test.count},
                      {"mean_abs_gap", interval_json(mean_of(gap))},
                      {"correlation", correlation},
                      {"neighbour_vote_error", interval_json(mean_of(share_wrong))},
                      {"sgnn_error", interval_json(mean_of(sgnn_wrong))}};
        std::printf(
            "[sgnn]   mechanisms (%s): |neighbour share - SGNN probability| %.4f, correlation %.3f, errors "
            "%.4f (neighbour vote) and %.4f (SGNN), in %s\n",
            mechanism_pair.c_str(), mechanisms["mean_abs_gap"]["estimate"].get<double>(), correlation,
            mechanisms["neighbour_vote_error"]["estimate"].get<double>(),
            mechanisms["sgnn_error"]["estimate"].get<double>(), coord::format_duration(seconds_since(started)).c_str());
    }
    std::fflush(stdout);
    return {
        {"task", {{"model", "logistic"}, {"days", days}, {"target", "carrying_capacity"}}},
        {"test_series", test_series},
        {"steps", steps},
        {"train_seconds", train_seconds},
        {"k", k_json},
        {"w1", w1_json},
        {"w1_floor", floor_json},
        {"mean_abs_error", mean_json},
        {"sd_abs_error", sd_json},
        {"mechanisms", mechanisms},
        {"claims_hold", {{"w1_shrinks", shrinks}}},
        {"tables", {"w1.csv", "series.csv", "mechanism_shares.csv"}},
    };
}

}  // namespace sgnn::experiments
