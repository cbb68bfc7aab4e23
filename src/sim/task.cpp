#include "sgnn/sim/task.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/sir.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace sgnn::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

class ChainBinomialSirTask final : public Task {
public:
    explicit ChainBinomialSirTask(const TaskConfig& config) : days_(config.days) {
        for (const auto& spec : sir_parameter_specs()) {
            const auto it = config.priors.find(spec.name);
            const std::string text = it == config.priors.end() ? spec.default_prior : it->second;
            priors_.push_back(ParameterPrior::parse("prior." + spec.name, text, spec.domain));
        }
        for (const auto& name : config.targets) {
            const auto& known = sir_target_names();
            const auto pos = std::find(known.begin(), known.end(), name);
            if (pos == known.end()) {
                std::string list;
                for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
                throw ConfigError("sim.targets: unknown target '" + name + "' for model sir; choose from " + list);
            }
            target_ids_.push_back(static_cast<int>(pos - known.begin()));
        }
        if (target_ids_.empty()) throw ConfigError("sim.targets: name at least one target");
        layout_.n_inputs = days_;
        layout_.target_names = config.targets;
    }

    const SampleLayout& layout() const override { return layout_; }

    bool generate(SampleStream& rng, double width, float* inputs, float* targets) const override {
        // Draw order is part of the sample's definition: keep it fixed.
        const double r0 = priors_[0].draw(rng, width);
        const double infectious_period = priors_[1].draw(rng, width);
        const double population = priors_[2].draw(rng, width);
        const double initial_infected = std::min(priors_[3].draw(rng, width), population);
        const ReportingModel reporting{priors_[4].draw(rng, width), priors_[5].draw(rng, width)};

        SirParameters params;
        params.gamma = 1.0 / infectious_period;
        params.beta = r0 * params.gamma;
        params.population = static_cast<std::int64_t>(std::llround(population));
        params.initial_infected = static_cast<std::int64_t>(std::llround(initial_infected));

        thread_local std::vector<std::int64_t> incidence, reported;
        incidence.resize(static_cast<std::size_t>(days_));
        reported.resize(static_cast<std::size_t>(days_));
        simulate_chain_binomial_sir(params, days_, rng, incidence.data());
        observe_reported_cases(incidence.data(), days_, reporting, rng, reported.data());

        for (int day = 0; day < days_; ++day) {
            if (reported[day] < 0) return false;
            inputs[day] = static_cast<float>(std::log1p(static_cast<double>(reported[day])));
        }
        const double all_targets[] = {std::log(r0), r0, params.beta, params.gamma, infectious_period,
                                      reporting.reporting_rate};
        for (std::size_t j = 0; j < target_ids_.size(); ++j) {
            const double value = all_targets[target_ids_[j]];
            if (!std::isfinite(value)) return false;
            targets[j] = static_cast<float>(value);
        }
        return true;
    }

private:
    int days_;
    std::vector<ParameterPrior> priors_;
    std::vector<int> target_ids_;
    SampleLayout layout_;
};

}  // namespace

const std::vector<ParameterSpec>& sir_parameter_specs() {
    static const std::vector<ParameterSpec> specs = {
        {"R0", "loguniform(1.5, 5)", {0.0, 100.0, false},
         "basic reproduction number beta/gamma"},
        {"infectious_period", "uniform(3, 8)", {0.0, 1000.0, false},
         "mean infectious period 1/gamma, days"},
        {"population", "loguniform(1e4, 1e6)", {1.0, 1e10, true, false},
         "population size N (rounded to an integer)"},
        {"initial_infected", "uniform_int(10, 50)", {1.0, 1e10, true, true},
         "infectious individuals on day 0 (capped at N)"},
        {"reporting_rate", "uniform(0.3, 0.9)", {0.0, 1.0, false},
         "probability that an infection is reported"},
        {"dispersion", "loguniform(5, 100)", {0.0, 1e9, false},
         "negative-binomial dispersion k of reported counts (variance m + m^2/k)"},
    };
    return specs;
}

const std::vector<std::string>& sir_target_names() {
    static const std::vector<std::string> names = {"log_R0", "R0", "beta", "gamma", "infectious_period",
                                                   "reporting_rate"};
    return names;
}

std::unique_ptr<Task> make_task(const TaskConfig& config) {
    if (config.model != "sir") {
        throw ConfigError("sim.model = '" + config.model + "': unknown model; available: sir");
    }
    return std::make_unique<ChainBinomialSirTask>(config);
}

GenerateResult generate_samples(const Task& task, std::uint64_t seed, Purpose purpose, std::uint64_t first_index,
                                int count, double prior_width, const SampleArrays& out, int threads) {
    const SampleLayout& layout = task.layout();
    const std::size_t n_in = static_cast<std::size_t>(layout.n_inputs);
    const std::size_t n_t = static_cast<std::size_t>(layout.n_targets());
    count = std::min(count, out.capacity);
    std::vector<char> valid(static_cast<std::size_t>(count), 0);

#pragma omp parallel for schedule(dynamic, 8) num_threads(threads) if (threads > 1)
    for (int j = 0; j < count; ++j) {
        const std::uint64_t index = first_index + static_cast<std::uint64_t>(j);
        SampleStream rng(seed, purpose, index);
        bool ok = false;
        try {
            ok = task.generate(rng, prior_width, out.inputs + j * n_in, out.targets + j * n_t);
        } catch (const std::exception&) {
            ok = false;  // a failing parameter draw drops the sample; it is counted below
        }
        valid[static_cast<std::size_t>(j)] = ok ? 1 : 0;
    }

    // Compact valid samples to the front, keeping index order.
    GenerateResult result;
    for (int j = 0; j < count; ++j) {
        if (!valid[static_cast<std::size_t>(j)]) {
            ++result.dropped;
            continue;
        }
        const int k = result.valid++;
        if (k != j) {
            std::memmove(out.inputs + k * n_in, out.inputs + j * n_in, n_in * sizeof(float));
            std::memmove(out.targets + k * n_t, out.targets + j * n_t, n_t * sizeof(float));
        }
        out.indices[k] = first_index + static_cast<std::uint64_t>(j);
        out.labels[k] = 0.0f;  // single-mechanism task: every sample is mechanism 0
    }
    return result;
}

}  // namespace sgnn::sim
