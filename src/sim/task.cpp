#include "sgnn/sim/task.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace sgnn::sim {
namespace {

struct TargetSource {
    enum class Kind { parameter, derived } kind;
    int index;
    bool log;
};

class EpidemicTask final : public Task {
public:
    explicit EpidemicTask(const TaskConfig& config)
        : days_(config.days), simulator_(make_simulator(config.model, config.options)), observation_(config.observation, config.days) {
        parameter_names_ = simulator_->parameters();
        n_simulator_parameters_ = static_cast<int>(parameter_names_.size());
        for (const auto& name : observation_.parameters()) parameter_names_.push_back(name);
        for (const auto& name : parameter_names_) {
            const ParameterSpec& spec = parameter_spec(name);
            const auto it = config.priors.find(name);
            priors_.push_back(ParameterPrior::parse("prior." + name, it == config.priors.end() ? spec.default_prior
                                                                                                 : it->second,
                                                    spec.domain));
        }
        derived_names_ = simulator_->derived();
        for (const auto& name : config.targets) targets_.push_back(resolve(config, name));
        if (targets_.empty()) throw ConfigError("sim.targets: name at least one target");
        layout_.n_inputs = observation_.output_length();
        layout_.target_names = config.targets;
    }

    const SampleLayout& layout() const override { return layout_; }

    bool generate(SampleStream& rng, double width, float* inputs, float* targets) const override {
        // Draw order is part of the sample's definition: parameters in declared order.
        thread_local std::vector<double> values, derived;
        thread_local std::vector<std::int64_t> incidence;
        values.resize(priors_.size());
        for (std::size_t k = 0; k < priors_.size(); ++k) values[k] = priors_[k].draw(rng, width);
        incidence.resize(static_cast<std::size_t>(days_));
        simulator_->simulate(values.data(), days_, rng, incidence.data());
        derived.resize(derived_names_.size());
        simulator_->compute_derived(values.data(), incidence.data(), days_, derived.data());

        for (int day = 0; day < days_; ++day) {
            if (incidence[day] < 0) return false;
        }
        if (!observation_.observe(incidence.data(), values.data() + n_simulator_parameters_, rng, inputs)) {
            return false;
        }
        for (std::size_t j = 0; j < targets_.size(); ++j) {
            const TargetSource& t = targets_[j];
            double value = t.kind == TargetSource::Kind::parameter ? values[static_cast<std::size_t>(t.index)]
                                                                   : derived[static_cast<std::size_t>(t.index)];
            if (t.log) value = std::log(value);
            if (!std::isfinite(value)) return false;
            targets[j] = static_cast<float>(value);
        }
        return true;
    }

private:
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
        for (const auto& t : available_targets(config.model, config.observation)) list += (list.empty() ? "" : ", ") + t;
        throw ConfigError("sim.targets: unknown target '" + name + "' for model " + config.model + "; choose from " +
                          list);
    }

    int days_;
    std::unique_ptr<Simulator> simulator_;
    ObservationModel observation_;
    std::vector<std::string> parameter_names_, derived_names_;
    int n_simulator_parameters_ = 0;
    std::vector<ParameterPrior> priors_;
    std::vector<TargetSource> targets_;
    SampleLayout layout_;
};

}  // namespace

std::vector<std::string> available_targets(const std::string& model, const std::vector<std::string>& observation) {
    const std::unique_ptr<Simulator> simulator = make_simulator(model);
    std::vector<std::string> names = simulator->parameters();
    for (const auto& step : observation) {
        for (const auto& n : ObservationModel::parameters_of(step)) names.push_back(n);
    }
    for (const auto& n : simulator->derived()) names.push_back(n);
    const std::size_t plain = names.size();
    for (std::size_t k = 0; k < plain; ++k) names.push_back("log_" + names[k]);
    return names;
}

std::unique_ptr<Task> make_task(const TaskConfig& config) { return std::make_unique<EpidemicTask>(config); }

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
