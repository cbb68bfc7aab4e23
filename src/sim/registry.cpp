#include "sgnn/error.hpp"
#include "sgnn/sim/epidemic_models.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/sim/user/sis.hpp"

namespace sgnn::sim {

void Simulator::simulate_batch(const double* params, int count, int days, SampleStream* rngs,
                               std::int64_t* incidence, char* ok) const {
    const std::size_t n_params = parameters().size();
    for (int j = 0; j < count; ++j) {
        try {
            simulate(params + static_cast<std::size_t>(j) * n_params, days, rngs[j],
                     incidence + static_cast<std::size_t>(j) * static_cast<std::size_t>(days));
            ok[j] = 1;
        } catch (const std::exception&) {
            ok[j] = 0;
        }
    }
}

// Explicit registration: static self-registering objects would be dropped by the
// linker from a static library that nothing else references.
const std::map<std::string, SimulatorFactory>& simulator_registry() {
    static const std::map<std::string, SimulatorFactory> registry = [] {
        std::map<std::string, SimulatorFactory> r;
        register_epidemic_models(r);
        // User models: one line each.
        r["sis"] = [](const SimulatorOptions&) { return std::make_unique<user::SisExample>(); };
        return r;
    }();
    return registry;
}

std::unique_ptr<Simulator> make_simulator(const std::string& name, const SimulatorOptions& options) {
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
