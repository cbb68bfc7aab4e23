// The unobservable experiment: an SGNN learns R0, a quantity no data set labels, from
// the first days of an outbreak, and beats the classical estimators on the same series.
//
// For each observation window T (experiment.windows, days from the first report), the
// task is the experiment's config with sim.days = T: a daily chain-binomial SIR seen
// through reporting and negative-binomial noise. Per window, an SGNN trained with
// squared loss on R0 is compared on the same held-out series with
//   - the exponential-growth-rate method (analysis/growth_rate_method.hpp): a Poisson
//     regression for r, turned into R0 with the generation interval the simulator
//     implies at the prior-mean infectious period;
//   - an SIR maximum-likelihood fit: the chain-binomial mean model with
//     negative-binomial noise, fitted with TAO from several random starts (the
//     population known), R0 from the best fit.
//   - the same fit with the infectious period fixed at its prior mean (told what the
//     growth-rate method is told).
// The growth-rate method fits only the exponential phase: up to the peak of the
// 7-day moving average when the window reaches it. Every rank takes a share of the fits.
//
// Run:     build/sgnn experiment unobservable --scale quick              (about two minutes)
//          mpiexec -n 4 build/sgnn experiment unobservable --scale paper  (jobs/paper/)
// Settings: configs/paper/unobservable.cfg. Outputs: per-window MSE and MAPE tables, PNG figures and summary.json
// (sgnn_lowest_mse_in_every_window).
#include "sgnn/analysis/bootstrap.hpp"
#include "sgnn/analysis/candidates.hpp"
#include "sgnn/analysis/growth_rate_method.hpp"
#include "sgnn/clock.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/error.hpp"
#include "sgnn/experiments/harness.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/train/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

namespace sgnn::experiments {
namespace {

// The prior's arguments of a parameter the config must fix or bound.
sim::ParameterPrior prior_of(const sim::TaskConfig& task, const std::string& name) {
    const auto it = task.priors.find(name);
    const std::string spec = it == task.priors.end() ? sim::parameter_spec(name).default_prior : it->second;
    return sim::ParameterPrior::parse("prior." + name, spec, sim::parameter_spec(name).domain);
}

// The mean of a uniform or log-uniform prior, or a fixed value.
double prior_mean(const sim::ParameterPrior& p, const std::string& key) {
    using Kind = sim::ParameterPrior::Kind;
    const auto& a = p.arguments();
    switch (p.kind()) {
        case Kind::fixed:
            return a[0];
        case Kind::uniform:
            return 0.5 * (a[0] + a[1]);
        case Kind::loguniform:
            return (a[1] - a[0]) / std::log(a[1] / a[0]);
        default:
            throw ConfigError(key + ": the unobservable experiment needs fixed, uniform or loguniform here");
    }
}

const char* const kMethods[] = {"sgnn", "growth_rate_method", "sir_mle", "sir_mle_known_period"};
constexpr int kMethodCount = 4;

}  // namespace

io::Json run_unobservable(ExperimentContext& context) {
    const config::OptionReader options(context.options, experiment_options());
    const sim::TaskConfig& base = context.run.task;
    const double population = daily_sir_population(base, context.name);
    const double infectious_period = prior_mean(prior_of(base, "infectious_period"), "prior.infectious_period");

    std::vector<double> windows = options.numbers(context.scaled_key("windows"));
    for (double w : windows) {
        if (!(w >= 5) || !(w <= 365) || std::floor(w) != w) {
            options.fail(context.scaled_key("windows"), "windows are whole numbers of days in [5, 365]");
        }
    }
    const int n = options.small_integer(context.scaled_key("test_series"));
    const std::int64_t steps = options.integer(context.scaled_key("steps"));
    const int resamples = options.small_integer("experiment.bootstrap");
    analysis::RestartSettings restarts;
    restarts.random_starts = options.small_integer("experiment.restarts");
    const std::uint64_t seed = context.run.seed;
    const auto sir = analysis::make_candidate("sir", population);
    // The same fit told the infectious period, as the growth-rate method is told the
    // generation interval: R0 is then identified by the early growth alone.
    const auto sir_known_period = analysis::make_candidate("sir", population);
    sir_known_period->fix("infectious_period", infectious_period);

    io::Json mse = io::Json::object(), mape = io::Json::object(), ratio = io::Json::object();
    std::string metrics = "window,method,mse,mse_low,mse_high,mape,mape_low,mape_high\n";
    bool sgnn_best = true;
    for (double window : windows) {
        const int days = static_cast<int>(window);
        const std::string name = std::to_string(days);
        const std::string dir = context.out + "/window-" + name;
        if (context.is_root()) {
            std::filesystem::create_directories(dir);
            std::printf("[sgnn] window of %d days\n", days);
            std::fflush(stdout);
        }
        run::RunConfig run = context.run;
        run.task.days = days;
        train_streamed(context, run, dir, steps);
        const auto task = sim::make_task(run.task);
        const DrawnSamples test = draw_samples(*task, seed, sim::Purpose::test, 0, n);
        const int count = test.count;

        // Classical estimates, fitted over ranks.
        const auto started = std::chrono::steady_clock::now();
        std::vector<double> growth(static_cast<std::size_t>(count), 0.0), mle(growth), mle_known(growth);
        for_my_series(count, *context.mpi, "SIR fits", [&](int j) {
            const std::vector<double> y = observed_counts(test, j, days);
            const int phase = analysis::exponential_phase_days(y.data(), days);
            growth[static_cast<std::size_t>(j)] =
                analysis::chain_binomial_sir_r0(analysis::exponential_growth_rate(y.data(), phase), infectious_period);
            const std::uint64_t index = static_cast<std::uint64_t>(j);
            mle[static_cast<std::size_t>(j)] =
                analysis::fit_candidates({sir.get()}, y.data(), days, seed, index, restarts)[0].natural[0];
            mle_known[static_cast<std::size_t>(j)] =
                analysis::fit_candidates({sir_known_period.get()}, y.data(), days, seed, index, restarts)[0].natural[0];
        });
        reduce_to_root(growth, *context.mpi);
        reduce_to_root(mle, *context.mpi);
        reduce_to_root(mle_known, *context.mpi);
        if (!context.is_root()) continue;
        std::printf("[sgnn]   growth-rate method and SIR fits of %d series in %s\n", count,
                    coord::format_duration(seconds_since(started)).c_str());

        const train::Predictor network(dir + "/model.h5");
        const std::vector<double> sgnn = network.predict(test.inputs.data(), count);
        const std::vector<double>* estimates[] = {&sgnn, &growth, &mle, &mle_known};
        const std::size_t m = static_cast<std::size_t>(count);
        std::vector<std::vector<double>> squared(kMethodCount, std::vector<double>(m)), relative(squared);
        io::CsvTable table(dir + "/estimates.csv",
                           {"series", "true_r0", "sgnn", "growth_rate_method", "sir_mle", "sir_mle_known_period"});
        for (std::size_t j = 0; j < m; ++j) {
            const double truth = test.targets[j];
            for (int k = 0; k < kMethodCount; ++k) {
                const double e = (*estimates[k])[j];
                squared[static_cast<std::size_t>(k)][j] = (e - truth) * (e - truth);
                relative[static_cast<std::size_t>(k)][j] = std::fabs(e - truth) / truth;
            }
            table.add_row({static_cast<double>(j), truth, sgnn[j], growth[j], mle[j], mle_known[j]});
        }
        table.save();
        mse[name] = io::Json::object();
        mape[name] = io::Json::object();
        double best_classical = std::numeric_limits<double>::infinity();
        int best = 1;
        std::printf("[sgnn]   R0 from %d days:", days);
        for (int k = 0; k < kMethodCount; ++k) {
            const auto& sq = squared[static_cast<std::size_t>(k)];
            const auto& rel = relative[static_cast<std::size_t>(k)];
            const analysis::Interval e =
                analysis::bootstrap(m, resamples, seed, [&](const auto& r) { return analysis::mean_over(sq, r); });
            const analysis::Interval p =
                analysis::bootstrap(m, resamples, seed, [&](const auto& r) { return analysis::mean_over(rel, r); });
            mse[name][kMethods[k]] = interval_json(e);
            mape[name][kMethods[k]] = interval_json(p);
            char row[256];
            std::snprintf(row, sizeof row, "%d,%s,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", days, kMethods[k], e.estimate,
                          e.low, e.high, p.estimate, p.low, p.high);
            metrics += row;
            if (k > 0 && e.estimate < best_classical) {
                best_classical = e.estimate;
                best = k;
            }
            std::printf(" %s MSE %.4g MAPE %.3f;", kMethods[k], e.estimate, p.estimate);
        }
        std::printf("\n");
        std::fflush(stdout);
        const auto& other = squared[static_cast<std::size_t>(best)];
        const analysis::Interval r = analysis::bootstrap(m, resamples, seed, [&](const auto& s) {
            return analysis::mean_over(squared[0], s) / analysis::mean_over(other, s);
        });
        ratio[name] = interval_json(r);
        ratio[name]["against"] = kMethods[best];
        sgnn_best &= mse[name]["sgnn"]["estimate"].get<double>() < best_classical;
    }
    if (!context.is_root()) return {};
    io::write_file_atomically(context.out + "/metrics.csv", metrics);
    return {
        {"task",
         {{"model", "sir"},
          {"target", "R0"},
          {"windows", windows},
          {"generation_interval_infectious_period", infectious_period}}},
        {"test_series", n},
        {"steps", steps},
        {"methods", {"sgnn", "growth_rate_method", "sir_mle", "sir_mle_known_period"}},
        {"mse", mse},
        {"mape", mape},
        {"sgnn_mse_over_best_classical", ratio},
        {"claims_hold", {{"sgnn_lowest_mse_in_every_window", sgnn_best}}},
        {"tables", {"metrics.csv", "window-T/estimates.csv"}},
    };
}

}  // namespace sgnn::experiments
