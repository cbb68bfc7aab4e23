#include "sgnn/sim/mixture.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

namespace sgnn::sim {
namespace {

struct Mechanism {
    std::string name;
    std::unique_ptr<Task> task;
    std::vector<int> target_slots;     // where each of the mechanism's targets goes in the union
    std::vector<int> parameter_slots;  // where each of its parameters goes in parameter_names()
};

class MixtureTask final : public Task {
public:
    explicit MixtureTask(const TaskConfig& config) {
        if (config.mixture.size() < 2) {
            throw ConfigError("sim.mixture: a mixture needs at least two mechanisms, e.g. sir:0.5,seir:0.5");
        }
        double total = 0.0;
        std::set<std::string> seen;
        for (const auto& [name, weight] : config.mixture) {
            if (name == "mixture") throw ConfigError("sim.mixture: a mixture cannot contain a mixture");
            if (!seen.insert(name).second) throw ConfigError("sim.mixture: '" + name + "' is listed twice");
            if (!(weight > 0.0) || !std::isfinite(weight)) {
                throw ConfigError("sim.mixture: the weight of '" + name + "' must be a number > 0");
            }
            total += weight;
        }
        for (const auto& [name, weight] : config.mixture) {
            cumulative_.push_back((cumulative_.empty() ? 0.0 : cumulative_.back()) + weight / total);
        }
        cumulative_.back() = 1.0;

        // Every mechanism's parameters, in order of first appearance: what the target
        // "parameters" stands for (each sample has its own mechanism's, the rest masked).
        std::vector<std::string> parameters;
        for (const auto& [name, weight] : config.mixture) {
            for (const auto& p : task_parameters(name, config.observation, config.options)) {
                if (std::find(parameters.begin(), parameters.end(), p) == parameters.end()) parameters.push_back(p);
            }
        }
        bool classify = false;
        std::vector<std::string> regression;
        for (const auto& t : expand_targets(config.targets, parameters)) {
            if (t == kMechanismTarget) {
                classify = true;
            } else {
                regression.push_back(t);
            }
        }
        for (const auto& [name, weight] : config.mixture) {
            const std::vector<std::string> offered = available_targets(name, config.observation, config.options);
            TaskConfig part = config;
            part.model = name;
            part.mixture.clear();
            part.targets.clear();
            Mechanism mechanism{name, nullptr, {}, {}};
            for (std::size_t t = 0; t < regression.size(); ++t) {
                if (std::find(offered.begin(), offered.end(), regression[t]) == offered.end()) continue;
                part.targets.push_back(regression[t]);
                mechanism.target_slots.push_back(static_cast<int>(t));
            }
            mechanism.task = make_simulator_task(part, true);
            for (const auto& p : mechanism.task->parameter_names()) {
                mechanism.parameter_slots.push_back(
                    static_cast<int>(std::find(parameters.begin(), parameters.end(), p) - parameters.begin()));
            }
            mechanisms_.push_back(std::move(mechanism));
        }
        for (std::size_t t = 0; t < regression.size(); ++t) {
            const bool somewhere = std::any_of(mechanisms_.begin(), mechanisms_.end(), [&](const Mechanism& m) {
                return std::find(m.target_slots.begin(), m.target_slots.end(), static_cast<int>(t)) !=
                       m.target_slots.end();
            });
            if (!somewhere) {
                throw ConfigError("sim.targets: no mechanism of sim.mixture has '" + regression[t] +
                                  "' (sgnn list simulators shows what each offers; 'mechanism' classifies them)");
            }
        }
        if (regression.empty() && !classify) throw ConfigError("sim.targets: name at least one target");

        const SampleLayout& first = mechanisms_.front().task->layout();
        for (const Mechanism& m : mechanisms_) {
            const SampleLayout& l = m.task->layout();
            if (l.n_inputs != first.n_inputs || l.n_channels != first.n_channels) {
                throw ConfigError("sim.mixture: every mechanism must give series of the same shape; " +
                                  mechanisms_.front().name + " gives " + std::to_string(first.n_channels) + " x " +
                                  std::to_string(first.n_inputs / first.n_channels) + " values, " + m.name + " " +
                                  std::to_string(l.n_channels) + " x " + std::to_string(l.n_inputs / l.n_channels));
            }
            block_ = std::max(block_, m.task->block_size());
        }
        parameter_names_ = parameters;
        layout_.n_inputs = first.n_inputs;
        layout_.n_channels = first.n_channels;
        layout_.target_names = regression;
        for (const auto& name : regression) layout_.target_supports.push_back(target_support(config, name));
        if (classify) {
            for (const Mechanism& m : mechanisms_) layout_.class_names.push_back(m.name);
        }
    }

    const SampleLayout& layout() const override { return layout_; }
    int block_size() const override { return block_; }

    void generate_block(SampleStream* rngs, int count, double width, const SampleRows& out,
                        char* valid) const override {
        const std::size_t n_in = static_cast<std::size_t>(layout_.n_inputs), n_t = layout_.target_names.size();
        // The mechanism is each sample's first draw.
        thread_local std::vector<int> chosen;
        chosen.resize(static_cast<std::size_t>(count));
        for (int j = 0; j < count; ++j) chosen[static_cast<std::size_t>(j)] = mechanism_index(rngs[j].uniform());
        // Each mechanism simulates its samples together, into scratch rows.
        thread_local std::vector<SampleStream> streams;
        thread_local std::vector<float> inputs, targets, labels;
        thread_local std::vector<char> ok;
        thread_local std::vector<int> members;
        for (std::size_t m = 0; m < mechanisms_.size(); ++m) {
            members.clear();
            for (int j = 0; j < count; ++j) {
                if (chosen[static_cast<std::size_t>(j)] == static_cast<int>(m)) members.push_back(j);
            }
            if (members.empty()) continue;
            const Mechanism& mechanism = mechanisms_[m];
            const std::size_t size = members.size(), own_t = mechanism.target_slots.size();
            streams.clear();
            for (int j : members) streams.push_back(rngs[j]);
            inputs.resize(size * n_in);
            targets.resize(size * own_t);
            labels.resize(size);
            ok.assign(size, 0);
            mechanism.task->generate_block(streams.data(), static_cast<int>(size), width,
                                           {inputs.data(), targets.data(), labels.data()}, ok.data());
            for (std::size_t k = 0; k < size; ++k) {
                const auto j = static_cast<std::size_t>(members[k]);
                valid[j] = ok[k];
                std::copy_n(inputs.data() + k * n_in, n_in, out.inputs + j * n_in);
                float* row = out.targets + j * n_t;
                std::fill(row, row + n_t, std::numeric_limits<float>::quiet_NaN());
                for (std::size_t t = 0; t < own_t; ++t) {
                    row[static_cast<std::size_t>(mechanism.target_slots[t])] = targets[k * own_t + t];
                }
                out.labels[j] = static_cast<float>(m);
            }
        }
    }

    std::string describe_sample(SampleStream& rng, double width) const override {
        return mechanism_of(rng).task->describe_sample(rng, width);
    }

    bool simulate_from(const double*, SampleStream&, float*) const override {
        throw std::logic_error(
            "a mixture simulates from a mechanism and its parameters; simulate_from takes a "
            "simulator's task");
    }

    const std::vector<std::string>& parameter_names() const override { return parameter_names_; }

    void draw_parameters(SampleStream& rng, double width, double* out) const override {
        const Mechanism& mechanism = mechanism_of(rng);
        std::fill(out, out + parameter_names_.size(), std::numeric_limits<double>::quiet_NaN());
        thread_local std::vector<double> own;
        own.resize(mechanism.parameter_slots.size());
        mechanism.task->draw_parameters(rng, width, own.data());
        for (std::size_t k = 0; k < own.size(); ++k) out[mechanism.parameter_slots[k]] = own[k];
    }

private:
    int mechanism_index(double u) const {
        return static_cast<int>(std::upper_bound(cumulative_.begin(), cumulative_.end() - 1, u) - cumulative_.begin());
    }
    // The mechanism is each sample's first draw (as in generate_block).
    const Mechanism& mechanism_of(SampleStream& rng) const {
        return mechanisms_[static_cast<std::size_t>(mechanism_index(rng.uniform()))];
    }

    std::vector<Mechanism> mechanisms_;
    std::vector<std::string> parameter_names_;
    std::vector<double> cumulative_;
    SampleLayout layout_;
    int block_ = 1;
};

}  // namespace

std::unique_ptr<Task> make_mixture_task(const TaskConfig& config) { return std::make_unique<MixtureTask>(config); }

}  // namespace sgnn::sim
