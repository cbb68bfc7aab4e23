#include "sgnn/sim/task.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/epidemic_models.hpp"
#include "sgnn/sim/mixture.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

namespace sgnn::sim {
namespace {

// The prior of parameter `name` in `model`'s samples: prior.NAME, except where
// sim.generation_interval sets the periods (then a fixed value).
std::string prior_spec(const TaskConfig& config, const std::string& model, const std::string& name) {
    for (const auto& [period, value] : periods_for_generation_interval(model, config.options)) {
        if (period != name) continue;
        char text[48];
        std::snprintf(text, sizeof text, "fixed(%.17g)", value);
        return text;
    }
    if (is_model_file(model) && config.priors_given.count(name) == 0) {
        for (const ParameterSpec& declared : make_simulator(model, config.options)->declared_parameters()) {
            if (declared.name == name) return declared.default_prior;
        }
    }
    const auto it = config.priors.find(name);
    return it == config.priors.end() ? parameter_spec(name).default_prior : it->second;
}

struct TargetSource {
    enum class Kind { parameter, derived } kind;
    int index;
    bool log;
};

// One simulator, its observation model and its targets.
class SimulatorTask final : public Task {
public:
    SimulatorTask(const TaskConfig& config, bool component)
        : days_(config.days),
          simulator_name_(config.model),
          simulator_(make_simulator(config.model, config.options)),
          channels_(static_cast<int>(simulator_->channels().size())),
          observation_(config.observation, config.days, config.delay_pmf, channels_,
                       ObservationModel::parse_transform(config.transform)) {
        simulator_->check_settings();
        parameter_names_ = simulator_->parameters();
        n_simulator_parameters_ = static_cast<int>(parameter_names_.size());
        for (const auto& name : observation_.parameters()) parameter_names_.push_back(name);
        if (config.options.onset_offset) parameter_names_.push_back(kOnsetOffset);
        for (const auto& name : parameter_names_) {
            priors_.push_back(
                ParameterPrior::parse("prior." + name, prior_spec(config, config.model, name), parameter_domain(name)));
        }
        check_observed_days();
        if (config.options.onset_offset) {
            offset_index_ = static_cast<int>(parameter_names_.size()) - 1;
            max_offset_ = static_cast<int>(std::llround(priors_.back().upper_bound()));
        }
        check_ssa_cost(config);
        derived_names_ = simulator_->derived();
        const std::vector<std::string> targets = expand_targets(config.targets, parameter_names_);
        for (const auto& name : targets) {
            if (name == kMechanismTarget) {
                throw ConfigError("sim.targets: '" + name +
                                  "' classifies the mechanisms of a mixture; set "
                                  "sim.model = mixture and list them in sim.mixture");
            }
            targets_.push_back(resolve(config, name));
        }
        if (targets_.empty() && !component) throw ConfigError("sim.targets: name at least one target");
        layout_.n_inputs = observation_.output_length();
        layout_.n_channels = channels_;
        layout_.target_names = targets;
        // A mixture's component: the mixture's layout describes the targets' supports.
        if (!component) {
            for (const auto& name : targets) layout_.target_supports.push_back(target_support(config, name));
        }
    }

    const SampleLayout& layout() const override { return layout_; }
    int block_size() const override { return simulator_->block_size(); }

    void generate_block(SampleStream* rngs, int count, double width, const SampleRows& rows,
                        char* valid) const override {
        float* const inputs = rows.inputs;
        float* const targets = rows.targets;
        std::fill(rows.labels, rows.labels + count, 0.0f);
        const std::size_t n_params = priors_.size(), n_sim = static_cast<std::size_t>(n_simulator_parameters_);
        const std::size_t length = static_cast<std::size_t>(days_) * static_cast<std::size_t>(channels_);
        // With onset offsets every trajectory runs from its seeding for the longest
        // offset plus the window; each sample then observes its own window of it.
        const int simulated_days = days_ + max_offset_;
        const std::size_t simulated = static_cast<std::size_t>(simulated_days) * static_cast<std::size_t>(channels_);
        const std::size_t n_in = static_cast<std::size_t>(layout_.n_inputs), n_t = targets_.size();
        thread_local std::vector<double> values, simulator_values, derived, trajectories, window;
        values.resize(static_cast<std::size_t>(count) * n_params);
        simulator_values.resize(static_cast<std::size_t>(count) * n_sim);
        trajectories.resize(static_cast<std::size_t>(count) * simulated);
        window.resize(length);
        derived.resize(derived_names_.size());
        // Draw order is part of each sample's definition: parameters in declared order,
        // then the simulation, then the observation model, all from the sample's stream.
        for (int j = 0; j < count; ++j) {
            double* v = values.data() + static_cast<std::size_t>(j) * n_params;
            for (std::size_t k = 0; k < n_params; ++k) v[k] = priors_[k].draw(rngs[j], width);
            std::copy(v, v + n_sim, simulator_values.data() + static_cast<std::size_t>(j) * n_sim);
        }
        simulator_->simulate_batch(simulator_values.data(), count, simulated_days, rngs, trajectories.data(), valid);
        for (int j = 0; j < count; ++j) {
            if (!valid[j]) continue;
            valid[j] = 0;
            try {
                const double* v = values.data() + static_cast<std::size_t>(j) * n_params;
                const double* series =
                    observed_series(v, trajectories.data() + static_cast<std::size_t>(j) * simulated, window.data());
                if (series == nullptr) continue;
                simulator_->compute_derived(v, series, days_, derived.data());
                if (!observation_.observe(series, v + n_sim, rngs[j], inputs + static_cast<std::size_t>(j) * n_in)) {
                    continue;
                }
                float* out = targets + static_cast<std::size_t>(j) * n_t;
                bool finite = true;
                for (std::size_t t = 0; t < n_t; ++t) {
                    const TargetSource& target = targets_[t];
                    double value = target.kind == TargetSource::Kind::parameter
                                       ? v[target.index]
                                       : derived[static_cast<std::size_t>(target.index)];
                    if (target.log) value = std::log(value);
                    finite &= std::isfinite(value);
                    out[t] = static_cast<float>(value);
                }
                valid[j] = finite ? 1 : 0;
            } catch (const std::exception&) {
                valid[j] = 0;  // a failing observation or derived quantity drops the sample
            }
        }
    }

    std::string describe_sample(SampleStream& rng, double width) const override {
        std::vector<double> values(priors_.size());
        draw_parameters(rng, width, values.data());
        std::string text = simulator_name_ + " with ";
        for (std::size_t k = 0; k < values.size(); ++k) {
            char value[40];
            std::snprintf(value, sizeof value, "%.6g", values[k]);
            text += (k == 0 ? "" : ", ") + parameter_names_[k] + " = " + value;
        }
        return text;
    }

    const std::vector<std::string>& parameter_names() const override { return parameter_names_; }

    void draw_parameters(SampleStream& rng, double width, double* out) const override {
        // The same draws, in the same order, as the start of generate_block.
        for (std::size_t k = 0; k < priors_.size(); ++k) out[k] = priors_[k].draw(rng, width);
    }

    std::vector<ParameterPrior> parameter_priors() const override { return priors_; }

    bool simulate_from(const double* parameters, SampleStream& rng, float* inputs) const override {
        const std::size_t n_sim = static_cast<std::size_t>(n_simulator_parameters_);
        std::vector<double> trajectory(static_cast<std::size_t>(days_ + max_offset_) *
                                       static_cast<std::size_t>(channels_)),
            window(static_cast<std::size_t>(days_) * static_cast<std::size_t>(channels_));
        char ok = 0;
        simulator_->simulate_batch(parameters, 1, days_ + max_offset_, &rng, trajectory.data(), &ok);
        if (!ok) return false;
        try {
            const double* series = observed_series(parameters, trajectory.data(), window.data());
            return series != nullptr && observation_.observe(series, parameters + n_sim, rng, inputs);
        } catch (const std::exception&) {
            return false;
        }
    }

private:
    // The observed window of a sample's trajectory (from its seeding), or nullptr for a
    // broken one (NaN, Inf, a negative count), whose sample is dropped.
    const double* observed_series(const double* parameters, const double* trajectory, double* window) const {
        const double* series =
            max_offset_ > 0 ? observed_window(trajectory, parameters[offset_index_], window) : trajectory;
        const std::size_t length = static_cast<std::size_t>(days_) * static_cast<std::size_t>(channels_);
        const bool nonnegative = simulator_->nonnegative();
        const bool broken = std::any_of(series, series + length,
                                        [&](double x) { return !std::isfinite(x) || (nonnegative && x < 0.0); });
        return broken ? nullptr : series;
    }

    // The sim.days entries of each channel that a sample with this onset offset
    // observes, copied out of its trajectory of days_ + max_offset_ entries per channel.
    const double* observed_window(const double* trajectory, double offset, double* out) const {
        const auto first = static_cast<std::size_t>(std::clamp<long long>(std::llround(offset), 0, max_offset_));
        const auto simulated = static_cast<std::size_t>(days_ + max_offset_), days = static_cast<std::size_t>(days_);
        for (std::size_t c = 0; c < static_cast<std::size_t>(channels_); ++c) {
            std::copy_n(trajectory + c * simulated + first, days, out + c * days);
        }
        return out;
    }

    // The truncate step's prior must reach the full series, or its last entries would
    // always be missing and a series that long would be new to the network.
    void check_observed_days() const {
        const auto it = std::find(parameter_names_.begin(), parameter_names_.end(), "observed_days");
        if (it == parameter_names_.end()) return;
        const ParameterPrior& prior = priors_[static_cast<std::size_t>(it - parameter_names_.begin())];
        const int length = observation_.channel_length();
        if (prior.upper_bound() < length || prior.lower_bound() > length) {
            throw ConfigError("prior.observed_days = " + prior.spec() + ": the truncate step needs lengths up to the " +
                              std::to_string(length) + " entries of a series (sim.days" +
                              (length == days_ ? "" : ", in weeks") + "), e.g. uniform_int(" +
                              std::to_string(std::min(14, length)) + ", " + std::to_string(length) + ")");
        }
    }

    // An exact SSA sample costs events in proportion to its population: with N = 1e10
    // one sample would take hours, so an expensive prior is refused up front.
    void check_ssa_cost(const TaskConfig& config) const {
        const double per_individual = simulator_->events_per_individual();
        const auto population = std::find(parameter_names_.begin(), parameter_names_.end(), "population");
        if (per_individual <= 0.0 || population == parameter_names_.end()) return;
        const double largest = priors_[static_cast<std::size_t>(population - parameter_names_.begin())].upper_bound();
        const double events = per_individual * largest;
        if (events <= config.max_ssa_events) return;
        constexpr double kSecondsPerEvent = 15e-9;  // measured: docs/performance.md
        throw ConfigError("prior.population allows N up to " + format_number(largest) + ": one exact " + config.model +
                          " sample then takes up to " + format_number(events) + " events (about " +
                          format_number(std::ceil(events * kSecondsPerEvent * 10) / 10) +
                          " s each), above sim.max_ssa_events = " + format_number(config.max_ssa_events) +
                          ". Use a smaller population, " +
                          (is_model_file(config.model) ? std::string("tau-leaping (sim.method = tau_leap")
                                                       : std::string("the tau-leaping model (sim.model = ") +
                                                             (per_individual > 2 ? "seir_tauleap" : "sir_tauleap")) +
                          ", about 90x faster), or raise sim.max_ssa_events");
    }

    TargetSource resolve(const TaskConfig& config, const std::string& name) const {
        const bool log = name.rfind("log_", 0) == 0;
        const std::string base = log ? name.substr(4) : name;
        const auto param = std::find(parameter_names_.begin(), parameter_names_.end(), base);
        if (param != parameter_names_.end()) {
            return {TargetSource::Kind::parameter, static_cast<int>(param - parameter_names_.begin()), log};
        }
        const auto derived = std::find(derived_names_.begin(), derived_names_.end(), base);
        if (derived != derived_names_.end()) {
            return {TargetSource::Kind::derived, static_cast<int>(derived - derived_names_.begin()), log};
        }
        std::string list;
        for (const auto& t : available_targets(config.model, config.observation, config.options))
            list += (list.empty() ? "" : ", ") + t;
        throw ConfigError("sim.targets: unknown target '" + name + "' for model " + config.model + "; choose from " +
                          list);
    }

    int days_;
    std::string simulator_name_;
    std::unique_ptr<Simulator> simulator_;
    int channels_;
    ObservationModel observation_;
    std::vector<std::string> parameter_names_, derived_names_;
    int n_simulator_parameters_ = 0;
    std::vector<ParameterPrior> priors_;
    int offset_index_ = -1;  // onset_offset's place in the parameters (sim.onset_offset = on)
    int max_offset_ = 0;     // the largest onset offset its prior can draw; 0 when off
    std::vector<TargetSource> targets_;
    SampleLayout layout_;
};

}  // namespace

std::vector<std::string> task_parameters(const std::string& model, const std::vector<std::string>& observation,
                                         const SimulatorOptions& options) {
    std::vector<std::string> names = make_simulator(model, options)->parameters();
    for (const auto& step : observation) {
        for (const auto& n : ObservationModel::parameters_of(step)) names.push_back(n);
    }
    if (options.onset_offset) names.emplace_back(kOnsetOffset);
    return names;
}

std::vector<std::string> available_targets(const std::string& model, const std::vector<std::string>& observation,
                                           const SimulatorOptions& options) {
    std::vector<std::string> names = task_parameters(model, observation, options);
    for (const auto& n : make_simulator(model, options)->derived()) names.push_back(n);
    const std::size_t plain = names.size();
    for (std::size_t k = 0; k < plain; ++k) names.push_back("log_" + names[k]);
    names.push_back(kAllParameters);
    return names;
}

std::vector<std::string> expand_targets(const std::vector<std::string>& targets,
                                        const std::vector<std::string>& parameters) {
    std::vector<std::string> expanded;
    for (const auto& target : targets) {
        if (target != kAllParameters) {
            expanded.push_back(target);
            continue;
        }
        for (const auto& p : parameters) {
            if (std::find(targets.begin(), targets.end(), p) == targets.end()) expanded.push_back(p);
        }
    }
    for (std::size_t i = 0; i < expanded.size(); ++i) {
        if (std::find(expanded.begin() + static_cast<std::ptrdiff_t>(i) + 1, expanded.end(), expanded[i]) !=
            expanded.end()) {
            throw ConfigError("sim.targets: '" + expanded[i] + "' is listed twice");
        }
    }
    return expanded;
}

ParameterPrior task_prior(const TaskConfig& config, const std::string& model, const std::string& name) {
    return ParameterPrior::parse("prior." + name, prior_spec(config, model, name), parameter_domain(name));
}

std::unique_ptr<Task> make_simulator_task(const TaskConfig& config, bool component) {
    return std::make_unique<SimulatorTask>(config, component);
}

std::vector<std::string> task_simulators(const TaskConfig& config) {
    if (config.model != "mixture") return {config.model};
    std::vector<std::string> models;
    for (const auto& [model, weight] : config.mixture) models.push_back(model);
    return models;
}

TargetSupport target_support(const TaskConfig& config, const std::string& target) {
    const bool log = target.rfind("log_", 0) == 0;
    const std::string name = log ? target.substr(4) : target;
    TargetSupport support;
    bool parameter = false;
    for (const auto& model : task_simulators(config)) {
        const auto parameters = task_parameters(model, config.observation, config.options);
        const auto targets = available_targets(model, config.observation, config.options);
        parameter |= std::find(parameters.begin(), parameters.end(), name) != parameters.end();
        support.in_every_sample &= std::find(targets.begin(), targets.end(), target) != targets.end();
    }
    if (!parameter) {
        support.origin = "derived quantity " + target;
        return support;  // real: nothing in the priors bounds it
    }
    // A mixture's mechanisms share their priors, except periods that
    // sim.generation_interval sets for each (fixed values, so discrete either way).
    std::string spec = prior_spec(config, task_simulators(config).front(), name);
    for (const auto& model : task_simulators(config)) {
        const std::string own = prior_spec(config, model, name);
        if (own.rfind("fixed(", 0) == 0) spec = own;
    }
    const ParameterPrior prior = ParameterPrior::parse("prior." + name, spec, parameter_domain(name));
    support.origin = "prior." + name + " = " + spec;
    if (prior.discrete()) {
        support.kind = TargetSupport::Kind::discrete;
    } else if (prior.kind() == ParameterPrior::Kind::normal) {
        support.kind = TargetSupport::Kind::real;
    } else if (prior.kind() == ParameterPrior::Kind::lognormal) {
        support.kind = log ? TargetSupport::Kind::real : TargetSupport::Kind::positive;
        support.upper = log ? 0.0 : prior.upper_bound();
    } else {
        support.kind = TargetSupport::Kind::interval;
        support.lower = prior.lower_bound();
        support.upper = prior.upper_bound();
        support.log_scale = prior.kind() == ParameterPrior::Kind::loguniform && !log;
        if (log) {
            if (!(support.lower > 0.0)) {
                support.kind = TargetSupport::Kind::real;  // log_ of a value that can be 0: samples drop
            } else {
                support.lower = std::log(support.lower);
                support.upper = std::log(support.upper);
            }
        }
    }
    return support;
}

std::unique_ptr<Task> make_task(const TaskConfig& config) {
    if (config.model == "mixture") return make_mixture_task(config);
    return make_simulator_task(config);
}

bool Task::generate(SampleStream& rng, double prior_width, const SampleRows& out) const {
    char valid = 0;
    generate_block(&rng, 1, prior_width, out, &valid);
    return valid != 0;
}

GenerateResult generate_samples(const Task& task, std::uint64_t seed, Purpose purpose, std::uint64_t first_index,
                                int count, double prior_width, const SampleArrays& out, int threads) {
    const SampleLayout& layout = task.layout();
    const std::size_t n_in = static_cast<std::size_t>(layout.n_inputs);
    const std::size_t n_t = static_cast<std::size_t>(layout.n_targets());
    count = std::min(count, out.capacity);
    std::vector<char> valid(static_cast<std::size_t>(count), 0);
    std::vector<float> labels(static_cast<std::size_t>(count), 0.0f);

    // Blocks of samples: a task may simulate a block's trajectories together. Block
    // boundaries depend only on first_index and count, never on the thread count.
    const int block = task.block_size();
    const int blocks = (count + block - 1) / block;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (int b = 0; b < blocks; ++b) {
        if (stopping()) continue;  // abandoned: thrown below, outside the parallel region
        const int first = b * block, size = std::min(block, count - first);
        std::vector<SampleStream> rngs;
        rngs.reserve(static_cast<std::size_t>(size));
        for (int j = 0; j < size; ++j) {
            rngs.emplace_back(seed, purpose, first_index + static_cast<std::uint64_t>(first + j));
        }
        try {
            const SampleRows rows{out.inputs + static_cast<std::size_t>(first) * n_in,
                                  out.targets + static_cast<std::size_t>(first) * n_t, labels.data() + first};
            task.generate_block(rngs.data(), size, prior_width, rows, valid.data() + first);
        } catch (const std::exception&) {
            std::fill_n(valid.begin() + first, size, 0);  // counted as dropped below
        }
    }

    if (stopping()) {
        const char* what = purpose == Purpose::norm   ? "normalization"
                           : purpose == Purpose::eval ? "held-out evaluation"
                           : purpose == Purpose::bank ? "memory bank"
                           : purpose == Purpose::test ? "test"
                                                      : "training";
        throw_if_stopping(std::string("the simulation of ") + what + " samples");
    }

    // Compact valid samples to the front, keeping index order.
    GenerateResult result;
    for (int j = 0; j < count; ++j) {
        if (!valid[static_cast<std::size_t>(j)]) {
            if (result.dropped++ == 0) result.first_dropped = first_index + static_cast<std::uint64_t>(j);
            continue;
        }
        const int k = result.valid++;
        if (k != j) {
            std::memmove(out.inputs + k * n_in, out.inputs + j * n_in, n_in * sizeof(float));
            std::memmove(out.targets + k * n_t, out.targets + j * n_t, n_t * sizeof(float));
        }
        out.indices[k] = first_index + static_cast<std::uint64_t>(j);
        out.labels[k] = labels[static_cast<std::size_t>(j)];
    }
    return result;
}

IndexedSamples generate_indexed_samples(const Task& task, std::uint64_t seed, Purpose purpose,
                                        std::uint64_t first_index, int count, int threads) {
    const SampleLayout& layout = task.layout();
    const auto n = static_cast<std::size_t>(count), n_in = static_cast<std::size_t>(layout.n_inputs);
    const auto n_t = static_cast<std::size_t>(layout.n_targets()), n_p = task.parameter_names().size();
    std::vector<float> packed_in(n * n_in), packed_t(n * n_t), packed_labels(n);
    std::vector<std::uint64_t> packed_indices(n);
    IndexedSamples rows;
    rows.result = generate_samples(
        task, seed, purpose, first_index, count, 1.0,
        {packed_indices.data(), packed_in.data(), packed_t.data(), packed_labels.data(), count}, threads);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    rows.inputs.assign(n * n_in, nan);
    rows.targets.assign(n * n_t, nan);
    rows.labels.assign(n, -1);
    rows.valid.assign(n, 0);
    for (std::size_t k = 0; k < static_cast<std::size_t>(rows.result.valid); ++k) {
        const std::size_t row = static_cast<std::size_t>(packed_indices[k] - first_index);
        std::copy_n(packed_in.begin() + static_cast<long>(k * n_in), n_in,
                    rows.inputs.begin() + static_cast<long>(row * n_in));
        std::copy_n(packed_t.begin() + static_cast<long>(k * n_t), n_t,
                    rows.targets.begin() + static_cast<long>(row * n_t));
        rows.labels[row] = static_cast<std::int64_t>(packed_labels[k]);
        rows.valid[row] = 1;
    }
    rows.indices.resize(n);
    rows.parameters.resize(n * n_p);
    for (std::size_t j = 0; j < n; ++j) {
        rows.indices[j] = first_index + j;
        SampleStream rng(seed, purpose, first_index + j);
        task.draw_parameters(rng, 1.0, rows.parameters.data() + j * n_p);
    }
    return rows;
}

}  // namespace sgnn::sim
