#include "sgnn/error.hpp"
#include "sgnn/sim/compartmental_model.hpp"
#include "sgnn/sim/epidemic_models.hpp"
#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/ode_models.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/sim/user/sis.hpp"

#include <stdexcept>

namespace sgnn::sim {

void Simulator::simulate_batch(const double* params, int count, int days, SampleStream* rngs, double* series,
                               char* ok) const {
    const std::size_t n_params = parameters().size();
    const std::size_t length = channels().size() * static_cast<std::size_t>(days);
    for (int j = 0; j < count; ++j) {
        try {
            simulate(params + static_cast<std::size_t>(j) * n_params, days, rngs[j],
                     series + static_cast<std::size_t>(j) * length);
            ok[j] = 1;
        } catch (const std::exception&) {
            ok[j] = 0;
        }
    }
}

ParameterSpec parameter_spec_of(const Simulator& simulator, const std::string& name) {
    for (ParameterSpec& declared : simulator.declared_parameters()) {
        if (declared.name == name) return declared;
    }
    return parameter_spec(name);
}

void simulate_as_batch(const Simulator& simulator, const double* params, int days, SampleStream& rng, double* series) {
    char ok = 0;
    simulator.simulate_batch(params, 1, days, &rng, series, &ok);
    if (!ok)
        throw std::invalid_argument("no valid trajectory for this parameter set (" + simulator.description() + ")");
}

namespace {

// Simulators added by a program that links sgnn (add_simulator), and whether the
// registry was built: it is built once, on first use, and never changes after, so that
// every part of a run sees the same models.
std::map<std::string, SimulatorFactory>& added_simulators() {
    static std::map<std::string, SimulatorFactory> added;
    return added;
}
bool registry_built = false;

}  // namespace

// Explicit registration: static self-registering objects would be dropped by the
// linker from a static library that nothing else references.
const std::map<std::string, SimulatorFactory>& simulator_registry() {
    static const std::map<std::string, SimulatorFactory> registry = [] {
        std::map<std::string, SimulatorFactory> r;
        register_epidemic_models(r);
        register_ode_models(r);
        // User models: one line each.
        r["sis"] = [](const SimulatorOptions&) { return std::make_unique<user::SisExample>(); };
        for (const auto& [name, factory] : added_simulators()) {
            if (!r.emplace(name, factory).second)
                throw std::logic_error("simulator '" + name + "' is already built in");
        }
        registry_built = true;
        return r;
    }();
    return registry;
}

void add_simulator(const std::string& name, SimulatorFactory factory) {
    if (registry_built) throw std::logic_error("add_simulator('" + name + "') after the simulator registry was built");
    if (!added_simulators().emplace(name, std::move(factory)).second) {
        throw std::logic_error("simulator '" + name + "' is added twice");
    }
}

std::unique_ptr<Simulator> make_simulator(const std::string& name, const SimulatorOptions& options) {
    if (is_model_file(name)) return make_compartmental_model(read_model_file(name), options);
    const auto& registry = simulator_registry();
    const auto it = registry.find(name);
    if (it == registry.end()) {
        std::string names;
        for (const auto& [known, factory] : registry) names += (names.empty() ? "" : ", ") + known;
        throw ConfigError("sim.model = '" + name + "': unknown simulator; available: " + names);
    }
    return it->second(options);
}

}  // namespace sgnn::sim
