#include "sgnn/sim/compartmental_model.hpp"

#include "sgnn/sim/epidemic_models.hpp"
#include "sgnn/sim/expression.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/stop.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>

namespace sgnn::sim {

std::string per_individual_rate(const std::string& rate, const std::string& from) {
    // Split the top level (outside parentheses) at * and /; anything else there (+, -,
    // comparisons, ?:) makes it not a plain chain.
    struct Factor {
        std::size_t begin, end;
        char before;  // the operator before it: '*', '/', or 0 for the first
    };
    std::vector<Factor> factors;
    int depth = 0;
    std::size_t begin = 0;
    char before = 0;
    for (std::size_t i = 0; i < rate.size(); ++i) {
        const char c = rate[i];
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (depth != 0) continue;
        if (c == '*' || c == '/') {
            factors.push_back({begin, i, before});
            before = c;
            begin = i + 1;
        } else if (std::string("+-<>=!&|?:,").find(c) != std::string::npos) {
            // A sign or exponent inside a number (1e-3) is not a top-level operator.
            const bool exponent = (c == '+' || c == '-') && i > 0 && (rate[i - 1] == 'e' || rate[i - 1] == 'E') &&
                                  i > 1 && std::isdigit(static_cast<unsigned char>(rate[i - 2]));
            if (!exponent) return "";
        }
    }
    factors.push_back({begin, rate.size(), before});
    const auto trimmed = [&](const Factor& f) {
        const auto first = rate.find_first_not_of(" \t", f.begin);
        const auto last = rate.find_last_not_of(" \t", f.end - 1);
        return first >= f.end ? std::string() : rate.substr(first, last - first + 1);
    };
    for (std::size_t k = 0; k < factors.size(); ++k) {
        if (trimmed(factors[k]) != from || factors[k].before == '/') continue;
        if (factors.size() == 1) return "1";
        std::string rest;
        for (std::size_t j = 0; j < factors.size(); ++j) {
            if (j == k) continue;
            const std::string factor = trimmed(factors[j]);
            // The first factor left keeps no operator, unless it divides (S / x -> 1 / x).
            if (rest.empty()) {
                rest = factors[j].before == '/' ? "1 / " + factor : factor;
            } else {
                rest += std::string(" ") + factors[j].before + " " + factor;
            }
        }
        return rest;
    }
    return "";
}

namespace {

// The model's expressions compiled over one table of values (parameters, derived
// quantities, compartments, N, t), and how a step uses them. One per thread and model
// (program_of): a table is single-threaded.
//
// A step's hazards sit in one row per trajectory: for each group (the outflows of one
// compartment, drawn together as competing risks) its flows' hazards per individual
// (times dt), then the group's probability slot; then each source's expected count.
// Constant hazards are written once per trajectory; the varying ones every step.
struct Program {
    struct Group {
        int compartment;
        int first_slot, flows;  // the flows' slots, then the probability slot
        bool constant;          // every hazard constant: the probability is too
        std::vector<int> transitions;
    };
    struct Hazard {
        int slot, expression;
        bool per_individual;  // the FROM factor taken out (else divided by the compartment)
        bool constant;        // uses no compartment, N or t
        int compartment;      // FROM, or -1 for a source
    };

    ExpressionTable table;
    int n_parameters, n_derived, n_compartments, n_slots = 0;
    std::vector<int> derived, initial;
    std::vector<Group> groups;      // by the first appearance of their compartment as a FROM
    std::vector<int> source_slots;  // per source
    std::vector<int> source_transitions;
    std::vector<Hazard> hazards;    // every flow's
    std::vector<int> step_symbols;  // what the varying hazards use: loaded before each step
    std::vector<int> from, to;      // per transition (-1: source or sink)
    std::vector<int> rates;         // per transition: the rate as written (tau-leaping, SSA, ODE)
    std::vector<int> hazard_of;     // per transition: its entry in hazards
    // Per transition: whether its rate is a constant per individual times its FROM
    // compartment (sigma * E), which the tau-leaping, SSA and ODE methods compute
    // as a product rather than evaluate; and the symbols the other rates use.
    std::vector<char> unit_rate;
    std::vector<int> evaluated_rate_symbols;
    bool rates_use_time = false;  // some rate is a function of t

    explicit Program(const ModelDescription& model)
        : table(symbols(model)),
          n_parameters(static_cast<int>(model.parameters.size())),
          n_derived(static_cast<int>(model.derived.size())),
          n_compartments(static_cast<int>(model.compartments.size())) {
        for (const auto& d : model.derived) derived.push_back(table.compile(d.expression));
        for (const auto& c : model.compartments) initial.push_back(table.compile(c.expression));
        for (const auto& t : model.transitions) {
            from.push_back(t.from);
            to.push_back(t.to);
            rates.push_back(table.compile(t.rate));
            if (t.from >= 0 &&
                std::none_of(groups.begin(), groups.end(), [&](const Group& g) { return g.compartment == t.from; }))
                groups.push_back({t.from, 0, 0, true, {}});
        }
        for (const auto& t : model.transitions) {
            if (t.from >= 0) {
                std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
                    return g.compartment == t.from;
                })->transitions.push_back(static_cast<int>(&t - model.transitions.data()));
            }
        }
        hazard_of.assign(model.transitions.size(), -1);
        const int first_state = n_parameters + n_derived;
        const auto add_hazard = [&](const ModelTransition& t, int slot) {
            Hazard h{slot, -1, false, false, t.from};
            if (t.from >= 0) {
                const std::string per =
                    per_individual_rate(t.rate, model.compartments[static_cast<std::size_t>(t.from)].name);
                h.per_individual = !per.empty();
                h.expression = table.compile(h.per_individual ? per : t.rate);
            } else {
                h.expression = table.compile(t.rate);
            }
            const auto& used = table.symbols_used(h.expression);
            h.constant = std::none_of(used.begin(), used.end(), [&](int s) { return s >= first_state; }) &&
                         (h.per_individual || t.from < 0);
            if (!h.constant) {
                for (int symbol : used) {
                    if (std::find(step_symbols.begin(), step_symbols.end(), symbol) == step_symbols.end())
                        step_symbols.push_back(symbol);
                }
            }
            hazard_of[static_cast<std::size_t>(&t - model.transitions.data())] = static_cast<int>(hazards.size());
            hazards.push_back(h);
            return h.constant;
        };
        for (Group& g : groups) {
            g.first_slot = n_slots;
            g.flows = static_cast<int>(g.transitions.size());
            for (int i : g.transitions)
                g.constant &= add_hazard(model.transitions[static_cast<std::size_t>(i)], n_slots++);
            ++n_slots;  // the probability
        }
        for (std::size_t i = 0; i < model.transitions.size(); ++i) {
            if (model.transitions[i].from >= 0) continue;
            source_slots.push_back(n_slots);
            source_transitions.push_back(static_cast<int>(i));
            add_hazard(model.transitions[i], n_slots++);
        }
        for (std::size_t i = 0; i < model.transitions.size(); ++i) {
            const Hazard& h = hazards[static_cast<std::size_t>(hazard_of[i])];
            unit_rate.push_back(from[i] >= 0 && h.constant && h.per_individual ? 1 : 0);
            if (unit_rate.back()) continue;
            for (int symbol : table.symbols_used(rates[i])) evaluated_rate_symbols.push_back(symbol);
        }
        rates_use_time = std::find(evaluated_rate_symbols.begin(), evaluated_rate_symbols.end(), total_slot() + 1) !=
                         evaluated_rate_symbols.end();
        std::sort(evaluated_rate_symbols.begin(), evaluated_rate_symbols.end());
        evaluated_rate_symbols.erase(std::unique(evaluated_rate_symbols.begin(), evaluated_rate_symbols.end()),
                                     evaluated_rate_symbols.end());
    }

    static std::vector<std::string> symbols(const ModelDescription& model) {
        std::vector<std::string> names;
        for (const auto& p : model.parameters) names.push_back(p.name);
        for (const auto& d : model.derived) names.push_back(d.name);
        for (const auto& c : model.compartments) names.push_back(c.name);
        names.push_back("N");
        names.push_back("t");
        return names;
    }

    int n_fixed() const { return n_parameters + n_derived; }
    int total_slot() const { return n_fixed() + n_compartments; }

    // Parameters into the table, then each derived quantity in order.
    void load_parameters(const double* params) {
        for (int p = 0; p < n_parameters; ++p) table.value(p) = params[p];
        for (int d = 0; d < n_derived; ++d) {
            table.value(n_parameters + d) = table.evaluate(derived[static_cast<std::size_t>(d)]);
        }
    }
};

// The Program of a model on this thread, compiled on first use: compiling costs about
// as much as simulating a block of trajectories for 10 days, so it is done once per
// thread and model, not per block. Models are told apart by model_id_of: one number
// per distinct model, so that the programs a long-lived process keeps (a sweep
// building many tasks of one file) are as many as its models, not its tasks.
Program& program_of(const ModelDescription& model, std::uint64_t model_id) {
    thread_local std::map<std::uint64_t, std::unique_ptr<Program>> programs;
    // The last one asked for, without a map lookup: the ODE method asks once per
    // trajectory and right-hand side.
    thread_local std::uint64_t last_id = ~std::uint64_t{0};
    thread_local Program* last = nullptr;
    if (model_id == last_id) return *last;
    auto& program = programs[model_id];
    if (!program) program = std::make_unique<Program>(model);
    last_id = model_id;
    last = program.get();
    return *program;
}

// The number of a model's Program: equal for two descriptions that compile to the same
// Program (the same names, expressions and transitions), whatever their files.
std::uint64_t model_id_of(const ModelDescription& model) {
    std::string key;  // one line per item; no expression holds a newline
    for (const auto& p : model.parameters) key += "p " + p.name + "\n";
    for (const auto& d : model.derived) key += "d " + d.name + " = " + d.expression + "\n";
    for (const auto& c : model.compartments) key += "c " + c.name + " = " + c.expression + "\n";
    for (const auto& t : model.transitions) {
        key += "t " + std::to_string(t.from) + " " + std::to_string(t.to) + " : " + t.rate + "\n";
    }
    static std::mutex mutex;
    static std::map<std::string, std::uint64_t> ids;
    std::lock_guard<std::mutex> lock(mutex);
    return ids.emplace(key, ids.size()).first->second;
}

// A hazard's value, checked: false for a negative or non-finite rate.
bool valid_rate(double value) { return value >= 0.0 && value <= std::numeric_limits<double>::max(); }

// The mean-field equations of a model file, for sim.method = ode: every transition's
// rate, as written, moves individuals continuously,
//   dX/dt = (rates into X) - (rates out of X),
// and one more unknown per transition an incidence channel counts holds its
// cumulative flow, so that a day's incidence is a difference of two recorded states.
// The unknowns are shares of the initial total (as the built-in sir_ode's are shares
// of N), so that ode.rtol and ode.atol mean the same for both: counts would make atol
// 1e-10 a tolerance of 1e-10 individuals.
//
// A trajectory's coefficients: its parameters and derived quantities (the table's
// fixed values), the initial total, then per transition its constant rate per
// individual (sigma of sigma * E), or NaN where the rate is evaluated from the state:
// the right-hand side is called hundreds of times per trajectory and day, and one
// product is cheaper than loading the table and evaluating an expression.
//
// Compartments enter the rates as max(X, 0): an adaptive Runge-Kutta step can take a
// compartment near zero a rounding below it, which must not turn a rate negative. A
// rate that is negative or not finite all the same makes the derivative NaN, and the
// solver drops that trajectory.
class MeanField final : public OdeSystem {
public:
    MeanField(const ModelDescription& model, std::uint64_t model_id)
        : model_(&model), model_id_(model_id), counter_of_(model.transitions.size(), -1) {
        for (const ModelChannel& channel : model.channels) {
            if (channel.kind != ModelChannel::Kind::incidence) continue;
            for (int term : channel.terms) {
                int& counter = counter_of_[static_cast<std::size_t>(term)];
                if (counter < 0) counter = n_counters_++;
            }
        }
        dimension_ = static_cast<int>(model.compartments.size()) + n_counters_;
    }

    int dimension() const override { return dimension_; }
    int n_coefficients(const Program& program) const {
        return program.n_fixed() + 1 + static_cast<int>(model_->transitions.size());
    }
    // The unknown that counts transition i's flow, or -1.
    int counter_of(int transition) const {
        const int counter = counter_of_[static_cast<std::size_t>(transition)];
        return counter < 0 ? -1 : static_cast<int>(model_->compartments.size()) + counter;
    }
    void rhs(double t, const double* y, const double* coefficients, double* dydt) const override;

private:
    const ModelDescription* model_;
    std::uint64_t model_id_;
    std::vector<int> counter_of_;  // per transition: its counter among the counters, or -1
    int n_counters_ = 0;
    int dimension_ = 0;  // compartments, then counters
};

void MeanField::rhs(double t, const double* y, const double* coefficients, double* dydt) const {
    Program& program = program_of(*model_, model_id_);
    const int n_fixed = program.n_fixed(), n_c = program.n_compartments;
    const double scale = coefficients[n_fixed];
    const double* unit = coefficients + n_fixed + 1;
    // The table holds what the evaluated rates use, in individuals.
    double* values = program.table.values();
    for (int symbol : program.evaluated_rate_symbols) {
        if (symbol < n_fixed) {
            values[symbol] = coefficients[symbol];
        } else if (symbol < program.total_slot()) {
            values[symbol] = std::max(y[symbol - n_fixed], 0.0) * scale;
        } else if (symbol == program.total_slot()) {
            double total = 0.0;
            for (int c = 0; c < n_c; ++c) total += std::max(y[c], 0.0);
            values[symbol] = total * scale;
        } else {
            values[symbol] = t;
        }
    }
    std::fill(dydt, dydt + dimension_, 0.0);
    for (std::size_t i = 0; i < program.rates.size(); ++i) {
        const int from = program.from[i], to = program.to[i];
        double rate;  // in shares of the initial total per day
        if (program.unit_rate[i]) {
            rate = unit[i] * std::max(y[from], 0.0);
        } else {
            rate = program.table.evaluate(program.rates[i]);
            rate = valid_rate(rate) ? rate / scale : std::nan("");
        }
        if (from >= 0) dydt[from] -= rate;
        if (to >= 0) dydt[to] += rate;
        const int counter = counter_of_[i];
        if (counter >= 0) dydt[n_c + counter] = rate;
    }
}

class CompartmentalModel final : public Simulator {
public:
    CompartmentalModel(ModelDescription model, const SimulatorOptions& options)
        : model_(std::move(model)),
          steps_per_day_(std::max(1, options.steps_per_day)),
          method_(method_of(options.method)),
          ode_settings_(options.ode),
          id_(model_id_of(model_)),
          mean_field_(model_, id_) {
        Program check(model_);  // the description was checked, so this compiles
        const bool named =
            std::any_of(model_.parameters.begin(), model_.parameters.end(),
                        [](const auto& p) { return p.name == "R0"; }) ||
            std::any_of(model_.derived.begin(), model_.derived.end(), [](const auto& d) { return d.name == "R0"; });
        derives_r0_ = !named && !infection_transitions(check).empty();
    }
    // mean_field_ points at model_.
    CompartmentalModel(const CompartmentalModel&) = delete;
    CompartmentalModel& operator=(const CompartmentalModel&) = delete;

    std::string description() const override { return model_.description; }
    std::vector<std::string> parameters() const override {
        std::vector<std::string> names;
        for (const auto& p : model_.parameters) names.push_back(p.name);
        return names;
    }
    std::vector<ParameterSpec> declared_parameters() const override {
        std::vector<ParameterSpec> specs;
        for (const auto& p : model_.parameters) {
            specs.push_back(
                {p.name, p.prior, parameter_domain(p.name), p.help.empty() ? "a parameter of " + model_.file : p.help});
        }
        return specs;
    }
    std::vector<std::string> channels() const override {
        std::vector<std::string> names;
        for (const auto& c : model_.channels) names.push_back(c.name);
        return names;
    }
    // The file's derived quantities, then R0 from the next-generation matrix when the
    // file has infections and no quantity named R0 of its own.
    std::vector<std::string> derived() const override {
        std::vector<std::string> names;
        for (const auto& d : model_.derived) names.push_back(d.name);
        if (derives_r0_) names.emplace_back("R0");
        return names;
    }
    void compute_derived(const double* params, const double*, int, double* out) const override {
        Program& program = program_of(model_, id_);
        program.load_parameters(params);
        for (int d = 0; d < program.n_derived; ++d) out[d] = program.table.value(program.n_parameters + d);
        if (derives_r0_) out[program.n_derived] = next_generation_r0(program, params);
    }

    void simulate(const double* params, int days, SampleStream& rng, double* series) const override {
        char ok = 0;
        simulate_batch(params, 1, days, &rng, series, &ok);
        if (!ok) {
            throw std::invalid_argument("no valid trajectory of " + model_.file +
                                        " for these parameters (an initial state that is not a whole number of "
                                        "individuals >= 0, or a rate that is negative or not finite)");
        }
    }

    void simulate_batch(const double* params, int count, int days, SampleStream* rngs, double* series,
                        char* ok) const override {
        if (method_ == Method::ode) {
            simulate_mean_field(params, count, days, series, ok);
            return;
        }
        Program& program = program_of(model_, id_);
        if (method_ != Method::chain_binomial) {
            const std::size_t n_params = model_.parameters.size();
            const std::size_t length = model_.channels.size() * static_cast<std::size_t>(days);
            for (int j = 0; j < count; ++j) {
                const double* p = params + static_cast<std::size_t>(j) * n_params;
                double* out = series + static_cast<std::size_t>(j) * length;
                ok[j] = (method_ == Method::gillespie ? simulate_exactly(program, p, days, rngs[j], out)
                                                      : simulate_tau_leaping(program, p, days, rngs[j], out))
                            ? 1
                            : 0;
            }
            return;
        }
        const std::size_t n_params = model_.parameters.size(), n_transitions = model_.transitions.size();
        const std::size_t n_fixed = static_cast<std::size_t>(program.n_fixed());
        const std::size_t n_compartments = static_cast<std::size_t>(program.n_compartments);
        const std::size_t n_slots = static_cast<std::size_t>(program.n_slots);
        const double dt = 1.0 / steps_per_day_;

        // 1. Every trajectory's start: parameters and derived quantities, initial state,
        //    constant hazards (rows of flat arrays, one row per live trajectory).
        std::vector<int> live;
        std::vector<double> fixed, hazards;
        std::vector<std::int64_t> state;
        for (int j = 0; j < count; ++j) {
            ok[j] = start(program, params + static_cast<std::size_t>(j) * n_params, dt, fixed, state, hazards) ? 1 : 0;
            if (ok[j]) live.push_back(j);
        }
        const std::size_t n = live.size();
        std::vector<char> failed(n, 0);
        std::vector<std::int64_t> flows(n * n_transitions), day_flows(n * n_transitions);
        std::vector<BinomialRequest> requests(n);
        std::vector<std::int64_t> drawn(n);
        const std::size_t length = model_.channels.size() * static_cast<std::size_t>(days);

        for (int day = 0; day < days; ++day) {
            std::fill(day_flows.begin(), day_flows.end(), 0);
            for (int step = 0; step < steps_per_day_; ++step) {
                const double time = day + step * dt;
                // 2. The varying hazards, from the state at the start of the step.
                for (std::size_t k = 0; k < n; ++k) {
                    if (!failed[k]) {
                        failed[k] = !step_hazards(program, &fixed[k * n_fixed], &state[k * n_compartments], time, dt,
                                                  &hazards[k * n_slots]);
                    }
                }
                // 3. Each compartment's outflows: one binomial for all of them (the
                //    block's draws together), then the competing risks split it.
                for (const Program::Group& group : program.groups) {
                    for (std::size_t k = 0; k < n; ++k) {
                        const double* h = &hazards[k * n_slots + static_cast<std::size_t>(group.first_slot)];
                        double total = 0.0;
                        for (int i = 0; i < group.flows; ++i) total += h[i];
                        requests[k] = failed[k]
                                          ? BinomialRequest{&rngs[live[k]], 0, 0.0, 0.0}
                                          : BinomialRequest{
                                                &rngs[live[k]],
                                                state[k * n_compartments + static_cast<std::size_t>(group.compartment)],
                                                total, h[group.flows]};
                    }
                    draw_binomials(requests.data(), static_cast<int>(n), drawn.data());
                    for (std::size_t k = 0; k < n; ++k) {
                        std::int64_t* f = &flows[k * n_transitions];
                        if (group.flows == 1) {
                            f[group.transitions[0]] = drawn[k];
                            continue;
                        }
                        const double* h = &hazards[k * n_slots + static_cast<std::size_t>(group.first_slot)];
                        std::int64_t left = drawn[k];
                        double rest = requests[k].rate;
                        for (int i = 0; i + 1 < group.flows; ++i) {
                            const std::int64_t taken =
                                left > 0 && rest > 0.0 ? binomial(rngs[live[k]], left, std::min(1.0, h[i] / rest)) : 0;
                            f[group.transitions[static_cast<std::size_t>(i)]] = taken;
                            left -= taken;
                            rest -= h[i];
                        }
                        f[group.transitions.back()] = left;
                    }
                }
                // 4. Sources, then every flow at once.
                for (std::size_t k = 0; k < n; ++k) {
                    std::int64_t* f = &flows[k * n_transitions];
                    for (std::size_t s = 0; s < program.source_slots.size(); ++s) {
                        const double mean = hazards[k * n_slots + static_cast<std::size_t>(program.source_slots[s])];
                        f[program.source_transitions[s]] = failed[k] ? 0 : poisson(rngs[live[k]], mean);
                    }
                    std::int64_t* x = &state[k * n_compartments];
                    std::int64_t* total = &day_flows[k * n_transitions];
                    for (std::size_t i = 0; i < n_transitions; ++i) {
                        if (program.from[i] >= 0) x[program.from[i]] -= f[i];
                        if (program.to[i] >= 0) x[program.to[i]] += f[i];
                        total[i] += f[i];
                    }
                }
            }
            // 5. The day's channels.
            for (std::size_t k = 0; k < n; ++k) {
                double* out = series + static_cast<std::size_t>(live[k]) * length + static_cast<std::size_t>(day);
                for (std::size_t c = 0; c < model_.channels.size(); ++c) {
                    const ModelChannel& channel = model_.channels[c];
                    const bool incidence = channel.kind == ModelChannel::Kind::incidence;
                    double value = 0.0;
                    for (int term : channel.terms) {
                        value += static_cast<double>(incidence
                                                         ? day_flows[k * n_transitions + static_cast<std::size_t>(term)]
                                                         : state[k * n_compartments + static_cast<std::size_t>(term)]);
                    }
                    out[c * static_cast<std::size_t>(days)] = value;
                }
            }
        }
        for (std::size_t k = 0; k < n; ++k) {
            if (failed[k]) ok[live[k]] = 0;
        }
    }

    int block_size() const override { return method_ == Method::ode ? kOdeBlock : 128; }
    void check_settings() const override {
        if (method_ == Method::ode) validate_ode_settings(ode_settings_);
    }

    // The exact SSA: an individual can make each transition out of a compartment at most
    // once on its way through a model without cycles, so a population of N costs up to
    // this times N events (a model with cycles or sources may cost more).
    double events_per_individual() const override {
        return method_ == Method::gillespie ? static_cast<double>(model_.transitions.size()) : 0.0;
    }

private:
    enum class Method { chain_binomial, tau_leap, gillespie, ode };

    static Method method_of(const std::string& name) {
        if (name == "tau_leap") return Method::tau_leap;
        if (name == "gillespie") return Method::gillespie;
        if (name == "ode") return Method::ode;
        return Method::chain_binomial;
    }

    // The initial state of a trajectory into `x` and the table (parameters, derived
    // quantities, compartments); false when it is not whole numbers of individuals.
    static bool initial_state(Program& program, const double* params, std::vector<std::int64_t>& x) {
        program.load_parameters(params);
        x.clear();
        for (int c = 0; c < program.n_compartments; ++c) {
            const double value = program.table.evaluate(program.initial[static_cast<std::size_t>(c)]);
            if (!(value >= -0.5 && value < 9e15)) return false;
            x.push_back(std::llround(value));
        }
        return true;
    }

    // Per transition, the constant rate per individual of a flow out of a compartment
    // (sigma of sigma * E), or NaN where the rate must be evaluated from the state: a
    // rate is then that times the compartment, without muParser (and with the built-in
    // models' arithmetic). False for a negative or non-finite one.
    static bool unit_rates(Program& program, std::vector<double>& unit) {
        unit.assign(program.rates.size(), std::nan(""));
        for (std::size_t i = 0; i < program.rates.size(); ++i) {
            if (!program.unit_rate[i]) continue;
            const Program::Hazard& h = program.hazards[static_cast<std::size_t>(program.hazard_of[i])];
            unit[i] = program.table.evaluate(h.expression);
            if (!valid_rate(unit[i])) return false;
        }
        return true;
    }

    // Transition i's rate in state x (the table loaded with it when `unit` has no value).
    static double rate_of(Program& program, const std::vector<double>& unit, const std::vector<std::int64_t>& x,
                          std::size_t i) {
        if (std::isnan(unit[i])) return program.table.evaluate(program.rates[i]);
        return unit[i] * static_cast<double>(x[static_cast<std::size_t>(program.from[i])]);
    }

    // The state and time into the table, for evaluating rates.
    static void load_state(Program& program, const std::vector<std::int64_t>& x, double time) {
        double* values = program.table.values();
        double total = 0.0;
        for (int c = 0; c < program.n_compartments; ++c) {
            values[program.n_fixed() + c] = static_cast<double>(x[static_cast<std::size_t>(c)]);
            total += static_cast<double>(x[static_cast<std::size_t>(c)]);
        }
        values[program.total_slot()] = total;
        values[program.total_slot() + 1] = time;
    }

    // The days' channels from the flows of day `day` and the state at its end.
    void record_day(int day, int days, const std::vector<std::int64_t>& day_flows, const std::vector<std::int64_t>& x,
                    double* series) const {
        for (std::size_t c = 0; c < model_.channels.size(); ++c) {
            const ModelChannel& channel = model_.channels[c];
            double value = 0.0;
            for (int term : channel.terms) {
                value += static_cast<double>(channel.kind == ModelChannel::Kind::incidence
                                                 ? day_flows[static_cast<std::size_t>(term)]
                                                 : x[static_cast<std::size_t>(term)]);
            }
            series[c * static_cast<std::size_t>(days) + static_cast<std::size_t>(day)] = value;
        }
    }

    // The ODE method: the mean-field equations (MeanField) from the same initial state
    // as the stochastic methods, integrated by PETSc TS a block at a time. Entry k of
    // a series is the expected incidence over [k h, (k + 1) h], h = ode.output_interval
    // (a day by default), or the prevalence at (k + 1) h: what the stochastic methods
    // report for a day, in expectation.
    void simulate_mean_field(const double* params, int count, int days, double* series, char* ok) const {
        Program& program = program_of(model_, id_);
        const std::size_t n_params = model_.parameters.size(), n_c = model_.compartments.size();
        const std::size_t d = static_cast<std::size_t>(mean_field_.dimension());
        const std::size_t length = model_.channels.size() * static_cast<std::size_t>(days);
        const int n_fixed = program.n_fixed();
        std::vector<double> scales(static_cast<std::size_t>(count)), unit;
        simulate_ode_block(
            mean_field_, ode_settings_, mean_field_.n_coefficients(program), count, days,
            [&](int j, double* coefficients, double* y0) {
                std::vector<std::int64_t> x;
                if (!initial_state(program, params + static_cast<std::size_t>(j) * n_params, x))
                    throw std::invalid_argument("initial state is not whole numbers of individuals >= 0");
                if (!unit_rates(program, unit)) throw std::invalid_argument("a negative or non-finite rate");
                std::copy(program.table.values(), program.table.values() + n_fixed, coefficients);
                std::copy(unit.begin(), unit.end(), coefficients + n_fixed + 1);
                double total = 0.0;
                for (std::int64_t size : x) total += static_cast<double>(size);
                const double scale = std::max(total, 1.0);  // a model that starts empty: counts
                coefficients[n_fixed] = scales[static_cast<std::size_t>(j)] = scale;
                std::fill(y0, y0 + d, 0.0);
                for (std::size_t c = 0; c < n_c; ++c) y0[c] = static_cast<double>(x[c]) / scale;
            },
            [&](int j, const double* states) {
                const double scale = scales[static_cast<std::size_t>(j)];
                double* out = series + static_cast<std::size_t>(j) * length;
                for (std::size_t c = 0; c < model_.channels.size(); ++c) {
                    const ModelChannel& channel = model_.channels[c];
                    for (std::size_t t = 0; t < static_cast<std::size_t>(days); ++t) {
                        const double* now = states + t * d;
                        const double* next = now + d;
                        double value = 0.0;
                        for (int term : channel.terms) {
                            if (channel.kind == ModelChannel::Kind::prevalence) {
                                value += next[term];
                            } else {
                                const int counter = mean_field_.counter_of(term);
                                value += next[counter] - now[counter];
                            }
                        }
                        out[c * static_cast<std::size_t>(days) + t] = value * scale;
                    }
                }
            },
            ok);
    }

    // Tau-leaping: 4 x sim.steps_per_day steps a day (the built-in tau-leaping models'
    // quarter day at 1). Each transition, in the file's order, moves Poisson(rate x tau)
    // individuals from the state at the start of the step, clipped to what is left of
    // its FROM compartment; sources are not clipped. Then every flow is applied.
    bool simulate_tau_leaping(Program& program, const double* params, int days, SampleStream& rng,
                              double* series) const {
        std::vector<std::int64_t> x;
        std::vector<double> unit;
        if (!initial_state(program, params, x) || !unit_rates(program, unit)) return false;
        const int steps = 4 * steps_per_day_;
        const double tau = 1.0 / steps;
        const std::size_t n_transitions = model_.transitions.size();
        std::vector<std::int64_t> flows(n_transitions), day_flows(n_transitions), left(x.size());
        for (int day = 0; day < days; ++day) {
            std::fill(day_flows.begin(), day_flows.end(), 0);
            for (int step = 0; step < steps; ++step) {
                load_state(program, x, day + step * tau);
                left = x;
                for (std::size_t i = 0; i < n_transitions; ++i) {
                    const double rate = rate_of(program, unit, x, i);
                    if (!valid_rate(rate)) return false;
                    std::int64_t moved = poisson(rng, rate * tau);
                    if (program.from[i] >= 0) {
                        std::int64_t& available = left[static_cast<std::size_t>(program.from[i])];
                        moved = std::min(moved, available);
                        available -= moved;
                    }
                    flows[i] = moved;
                }
                for (std::size_t i = 0; i < n_transitions; ++i) {
                    if (program.from[i] >= 0) x[static_cast<std::size_t>(program.from[i])] -= flows[i];
                    if (program.to[i] >= 0) x[static_cast<std::size_t>(program.to[i])] += flows[i];
                    day_flows[i] += flows[i];
                }
            }
            record_day(day, days, day_flows, x, series);
        }
        return true;
    }

    // The exact SSA (Gillespie's direct method): the next event after Exp(total rate),
    // the transition picked in proportion to its rate (in the file's order). Exact for
    // rates without t. A rate of t is held constant between events and within each
    // 1/kSsaTimeGrid of a day: when the next event would come after the next grid time,
    // time moves to it with no event and the rates are evaluated again (the waiting
    // time is memoryless, so nothing else changes). A step at a whole number of
    // grid times (step(t - 30)) is then exact, a source that starts later (imports from
    // day 30) starts, and a smooth rate of t is followed to within 15 minutes.
    static constexpr double kSsaTimeGrid = 96;
    bool simulate_exactly(Program& program, const double* params, int days, SampleStream& rng, double* series) const {
        std::vector<std::int64_t> x;
        std::vector<double> unit;
        if (!initial_state(program, params, x) || !unit_rates(program, unit)) return false;
        const std::size_t n_transitions = model_.transitions.size();
        std::vector<double> rates(n_transitions);
        std::vector<std::int64_t> day_flows(n_transitions, 0);
        double t = 0.0;
        int day = 0;                 // the day whose flows day_flows holds
        std::int64_t next_grid = 1;  // the first grid time after t, in units of 1/kSsaTimeGrid
        for (std::uint64_t events = 1;; ++events) {
            if ((events & 0xFFFF) == 0) throw_if_stopping("an exact SSA sample of " + model_.file);
            load_state(program, x, t);
            double total = 0.0;
            for (std::size_t i = 0; i < n_transitions; ++i) {
                // A transition out of an empty compartment cannot happen, whatever its rate says.
                const bool possible = program.from[i] < 0 || x[static_cast<std::size_t>(program.from[i])] > 0;
                rates[i] = possible ? rate_of(program, unit, x, i) : 0.0;
                if (!valid_rate(rates[i])) return false;
                total += rates[i];
            }
            const double drawn = total > 0.0 ? t + rng.exponential() / total : std::numeric_limits<double>::infinity();
            const double grid_time = static_cast<double>(next_grid) / kSsaTimeGrid;
            const bool regrid = program.rates_use_time && !(drawn < grid_time);
            const double next = regrid ? grid_time : drawn;
            // Days that end before the next event: their counts and end states are final.
            while (day < days && !(next < day + 1)) {
                record_day(day, days, day_flows, x, series);
                std::fill(day_flows.begin(), day_flows.end(), 0);
                ++day;
            }
            if (day >= days) return true;
            t = next;
            if (program.rates_use_time) {
                while (!(t < static_cast<double>(next_grid) / kSsaTimeGrid)) ++next_grid;
                if (regrid) continue;  // no event: the rates at the new time
            }
            const double pick = rng.uniform() * total;
            std::size_t chosen = 0;
            double cumulative = rates[0];
            while (chosen + 1 < n_transitions && !(pick < cumulative)) cumulative += rates[++chosen];
            while (rates[chosen] <= 0.0) --chosen;  // rounding at the top end: the last possible one
            if (program.from[chosen] >= 0) --x[static_cast<std::size_t>(program.from[chosen])];
            if (program.to[chosen] >= 0) ++x[static_cast<std::size_t>(program.to[chosen])];
            ++day_flows[chosen];
        }
    }

    // Appends a trajectory's rows: parameters and derived quantities, initial state,
    // hazards with the constant ones filled in. False (nothing appended) when it cannot
    // run: an initial state that is not a whole number of individuals, or a constant
    // rate that is negative or not finite.
    static bool start(Program& program, const double* params, double dt, std::vector<double>& fixed,
                      std::vector<std::int64_t>& state, std::vector<double>& hazards) {
        std::vector<std::int64_t> x;
        if (!initial_state(program, params, x)) return false;
        std::vector<double> h(static_cast<std::size_t>(program.n_slots), 0.0);
        for (const Program::Hazard& hazard : program.hazards) {
            if (!hazard.constant) continue;
            const double value = program.table.evaluate(hazard.expression);
            if (!valid_rate(value)) return false;
            h[static_cast<std::size_t>(hazard.slot)] = value * dt;
        }
        // A group of constant hazards has a constant probability 1 - exp(-total): what
        // the built-in models pass as BinomialRequest::p (0: computed from the rate).
        for (const Program::Group& group : program.groups) {
            if (!group.constant) continue;
            double total = 0.0;
            for (int i = 0; i < group.flows; ++i) total += h[static_cast<std::size_t>(group.first_slot + i)];
            h[static_cast<std::size_t>(group.first_slot + group.flows)] = probability_of_rate(total);
        }
        fixed.insert(fixed.end(), program.table.values(), program.table.values() + program.n_fixed());
        state.insert(state.end(), x.begin(), x.end());
        hazards.insert(hazards.end(), h.begin(), h.end());
        return true;
    }

    // The varying hazards of one step into `hazards` (per individual, times dt; a
    // source's expected count). Only the values their expressions use are loaded into
    // the table. False for a negative or non-finite rate.
    static bool step_hazards(Program& program, const double* fixed, const std::int64_t* state, double time, double dt,
                             double* hazards) {
        double* values = program.table.values();
        const int n_fixed = program.n_fixed();
        for (int s : program.step_symbols) {
            if (s < n_fixed) {
                values[s] = fixed[s];
            } else if (s < program.total_slot()) {
                values[s] = static_cast<double>(state[s - n_fixed]);
            } else if (s == program.total_slot()) {
                double total = 0.0;
                for (int c = 0; c < program.n_compartments; ++c) total += static_cast<double>(state[c]);
                values[s] = total;
            } else {
                values[s] = time;
            }
        }
        for (const Program::Hazard& hazard : program.hazards) {
            if (hazard.constant) continue;
            const double value = program.table.evaluate(hazard.expression);
            if (!valid_rate(value)) return false;
            double h = value;
            if (hazard.compartment >= 0 && !hazard.per_individual) {
                const double size = static_cast<double>(state[hazard.compartment]);
                h = size > 0.0 ? value / size : 0.0;
            }
            hazards[hazard.slot] = h * dt;
        }
        return true;
    }

    // Transitions whose rate uses a compartment other than the one they leave: new
    // infections (beta * S * I / N uses I), as opposed to progression (sigma * E).
    static std::vector<std::size_t> infection_transitions(const Program& program) {
        std::vector<std::size_t> found;
        for (std::size_t i = 0; i < program.rates.size(); ++i) {
            if (program.from[i] < 0 || program.to[i] < 0) continue;
            for (int s : program.table.symbols_used(program.rates[i])) {
                const int c = s - program.n_fixed();
                if (c >= 0 && c < program.n_compartments && c != program.from[i]) {
                    found.push_back(i);
                    break;
                }
            }
        }
        return found;
    }

    // R0 as the spectral radius of F V^-1 at the disease-free state (van den Driessche
    // and Watmough 2002), from the file's rates at these parameters; docs/models.md:
    //   - new infections: infection_transitions(); the infected compartments are those
    //     their targets reach through other transitions that can still reach a
    //     compartment driving an infection (one with a nonzero derivative of an
    //     infection rate): E and I, not R;
    //   - the disease-free state: the initial state with each infected compartment's
    //     individuals moved to the compartment its infection comes from;
    //   - F[i][j]: the derivative of new infections into i by x_j, V[i][j] that of the
    //     other flows out of i minus into i, by central differences with a step of 1e-6
    //     of the population (the rates are smooth: a rate linear in x_j is exact to
    //     rounding, N = x_1 + ... in a denominator costs about 1e-12).
    // NaN when V is singular (an infected compartment nobody leaves).
    double next_generation_r0(Program& program, const double* params) const {
        const std::vector<std::size_t> infections = infection_transitions(program);
        const int n_c = program.n_compartments;
        const std::size_t n_t = program.rates.size();
        std::vector<char> is_infection(n_t, 0);
        for (std::size_t i : infections) is_infection[i] = 1;
        // Reachability through transitions that are not infections.
        const auto reach_from = [&](int start) {
            std::vector<char> seen(static_cast<std::size_t>(n_c), 0);
            std::vector<int> stack = {start};
            seen[static_cast<std::size_t>(start)] = 1;
            while (!stack.empty()) {
                const int c = stack.back();
                stack.pop_back();
                for (std::size_t i = 0; i < n_t; ++i) {
                    if (is_infection[i] || program.from[i] != c || program.to[i] < 0) continue;
                    if (!seen[static_cast<std::size_t>(program.to[i])]) {
                        seen[static_cast<std::size_t>(program.to[i])] = 1;
                        stack.push_back(program.to[i]);
                    }
                }
            }
            return seen;
        };
        std::vector<double> initial;
        program.load_parameters(params);
        for (int c = 0; c < n_c; ++c)
            initial.push_back(program.table.evaluate(program.initial[static_cast<std::size_t>(c)]));
        // Each compartment an infection can lead to, and the compartment that infection comes from.
        std::vector<int> origin(static_cast<std::size_t>(n_c), -1);
        for (std::size_t i : infections) {
            const auto reached = reach_from(program.to[i]);
            for (int c = 0; c < n_c; ++c) {
                if (reached[static_cast<std::size_t>(c)] && origin[static_cast<std::size_t>(c)] < 0)
                    origin[static_cast<std::size_t>(c)] = program.from[i];
            }
        }
        const auto disease_free = [&](const std::vector<char>& infected) {
            std::vector<double> x = initial;
            for (int c = 0; c < n_c; ++c) {
                if (!infected[static_cast<std::size_t>(c)] || origin[static_cast<std::size_t>(c)] < 0) continue;
                x[static_cast<std::size_t>(origin[static_cast<std::size_t>(c)])] += x[static_cast<std::size_t>(c)];
                x[static_cast<std::size_t>(c)] = 0.0;
            }
            return x;
        };
        // The derivative of transition i's rate by compartment j at state x.
        const auto derivative = [&](std::size_t i, int j, const std::vector<double>& x) {
            double total = 0.0;
            for (double v : x) total += v;
            const double h = 1e-6 * std::max(1.0, total);
            const auto rate_at = [&](double shift) {
                double* values = program.table.values();
                double sum = 0.0;
                for (int c = 0; c < n_c; ++c) {
                    values[program.n_fixed() + c] = x[static_cast<std::size_t>(c)] + (c == j ? shift : 0.0);
                    sum += values[program.n_fixed() + c];
                }
                values[program.total_slot()] = sum;
                values[program.total_slot() + 1] = 0.0;
                return program.table.evaluate(program.rates[i]);
            };
            return (rate_at(h) - rate_at(-h)) / (2 * h);
        };
        // Candidates: everything an infection leads to; kept if it can reach a driver.
        std::vector<char> candidate(static_cast<std::size_t>(n_c), 0);
        for (int c = 0; c < n_c; ++c) candidate[static_cast<std::size_t>(c)] = origin[static_cast<std::size_t>(c)] >= 0;
        const std::vector<double> x0 = disease_free(candidate);
        std::vector<char> driver(static_cast<std::size_t>(n_c), 0);
        for (std::size_t i : infections) {
            for (int j = 0; j < n_c; ++j) {
                if (j != program.from[i] && derivative(i, j, x0) != 0.0) driver[static_cast<std::size_t>(j)] = 1;
            }
        }
        std::vector<int> infected;
        std::vector<char> is_infected(static_cast<std::size_t>(n_c), 0);
        for (int c = 0; c < n_c; ++c) {
            if (!candidate[static_cast<std::size_t>(c)]) continue;
            const auto reached = reach_from(c);
            for (int d = 0; d < n_c; ++d) {
                if (reached[static_cast<std::size_t>(d)] && driver[static_cast<std::size_t>(d)]) {
                    infected.push_back(c);
                    is_infected[static_cast<std::size_t>(c)] = 1;
                    break;
                }
            }
        }
        const std::size_t m = infected.size();
        if (m == 0) return 0.0;
        const std::vector<double> x = disease_free(is_infected);
        std::vector<std::vector<double>> f(m, std::vector<double>(m, 0.0)), v = f;
        for (std::size_t a = 0; a < m; ++a) {
            const int i = infected[a];
            for (std::size_t b = 0; b < m; ++b) {
                const int j = infected[b];
                for (std::size_t k = 0; k < n_t; ++k) {
                    if (is_infection[k]) {
                        if (program.to[k] == i) f[a][b] += derivative(k, j, x);
                        continue;
                    }
                    if (program.from[k] == i) v[a][b] += derivative(k, j, x);
                    if (program.to[k] == i && program.from[k] >= 0 &&
                        is_infected[static_cast<std::size_t>(program.from[k])])
                        v[a][b] -= derivative(k, j, x);
                }
            }
        }
        // K = F V^-1 through V^T solves (Gauss-Jordan with partial pivoting), then its
        // spectral radius: power iteration on K + I, primitive even when K is periodic
        // (host-vector models alternate between the two).
        std::vector<std::vector<double>> inverse(m, std::vector<double>(m, 0.0));
        for (std::size_t a = 0; a < m; ++a) inverse[a][a] = 1.0;
        for (std::size_t col = 0; col < m; ++col) {
            std::size_t pivot = col;
            for (std::size_t r = col + 1; r < m; ++r) {
                if (std::abs(v[r][col]) > std::abs(v[pivot][col])) pivot = r;
            }
            if (!(std::abs(v[pivot][col]) > 1e-300)) return std::nan("");
            std::swap(v[col], v[pivot]);
            std::swap(inverse[col], inverse[pivot]);
            const double scale = v[col][col];
            for (std::size_t c = 0; c < m; ++c) {
                v[col][c] /= scale;
                inverse[col][c] /= scale;
            }
            for (std::size_t r = 0; r < m; ++r) {
                if (r == col || v[r][col] == 0.0) continue;
                const double factor = v[r][col];
                for (std::size_t c = 0; c < m; ++c) {
                    v[r][c] -= factor * v[col][c];
                    inverse[r][c] -= factor * inverse[col][c];
                }
            }
        }
        std::vector<std::vector<double>> k(m, std::vector<double>(m, 0.0));
        for (std::size_t a = 0; a < m; ++a) {
            for (std::size_t b = 0; b < m; ++b) {
                for (std::size_t c = 0; c < m; ++c) k[a][b] += f[a][c] * inverse[c][b];
            }
            k[a][a] += 1.0;
        }
        return spectral_radius(k) - 1.0;
    }

    ModelDescription model_;
    int steps_per_day_;
    Method method_;
    OdeSettings ode_settings_;  // the ODE method's
    std::uint64_t id_;          // program_of's key: model_id_of(model_)
    MeanField mean_field_;      // the ODE method's equations
    bool derives_r0_ = false;   // derived() ends with R0 from the next-generation matrix
};

}  // namespace

std::unique_ptr<Simulator> make_compartmental_model(const ModelDescription& model, const SimulatorOptions& options) {
    return std::make_unique<CompartmentalModel>(model, options);
}

}  // namespace sgnn::sim
