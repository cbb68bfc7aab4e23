// A task turns (seed, purpose, sample index) into one training sample: it draws
// parameters from the prior, runs the simulator, applies the observation model
// (sim/observation.hpp) and computes the targets. Tasks know nothing of MPI or Torch.
#pragma once

#include "sgnn/sim/parameters.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/sim/random.hpp"
#include "sgnn/sim/simulator.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace sgnn::sim {

// The values a target can take under the task's priors: what a posterior density
// head needs to keep its draws inside (train/target_transforms.hpp picks a transform
// from it).
struct TargetSupport {
    enum class Kind {
        real,      // any real number: a derived quantity, or a normal prior
        positive,  // (0, upper]: a lognormal prior (upper is its truncation), or log_ of it is real
        interval,  // [lower, upper]: uniform, loguniform, truncnormal priors (and log_ of them)
        discrete,  // a finite set of values: fixed, uniform_int, categorical priors
    };
    Kind kind = Kind::real;
    double lower = 0.0, upper = 0.0;
    bool log_scale = false;       // interval: the prior is log-uniform (uniform in log x)
    bool in_every_sample = true;  // false: some mechanism of a mixture lacks the target
    std::string origin;           // "prior.beta = lognormal(-0.9, 0.5)", "derived quantity R0"
};

struct SampleLayout {
    int n_inputs = 0;    // channels x entries per channel
    int n_channels = 1;  // series per sample (sim/simulator.hpp channels())
    // Regression targets. In a mixture, a target a mechanism does not have is NaN in
    // that mechanism's samples (the mask: losses and metrics skip it).
    std::vector<std::string> target_names;
    std::vector<TargetSupport> target_supports;  // one per target, in the same order
    // Mechanisms of a mixture when the task classifies them (the target "mechanism");
    // empty otherwise. A sample's label is the index of its mechanism.
    std::vector<std::string> class_names;
    int n_targets() const { return static_cast<int>(target_names.size()); }
    int n_classes() const { return static_cast<int>(class_names.size()); }
};

// Where a task writes samples: row j of each array for sample j.
struct SampleRows {
    float* inputs;   // n_inputs per sample
    float* targets;  // n_targets per sample
    float* labels;   // one per sample: the mechanism's index (0 without a mixture)
};

struct TaskConfig {
    std::string model = "sir";  // a name from the simulator registry (sim/simulator.hpp), or "mixture"
    // model = mixture: the mechanisms and their weights (normalized). Each sample draws
    // its mechanism first, then everything else from that mechanism.
    std::vector<std::pair<std::string, double>> mixture;
    int days = 60;
    std::vector<std::string> targets{"log_R0", "beta", "gamma"};
    std::vector<std::string> observation{"report", "negbin"};  // steps of sim/observation.hpp
    std::vector<double> delay_pmf;                             // for the delay_pmf step
    std::string transform = "log1p";                           // obs.transform: log1p or identity
    SimulatorOptions options;                                  // non-scalar model settings
    std::map<std::string, std::string> priors;                 // parameter name -> prior spec
    // The priors set in the configuration, other than to the catalog's default: they
    // replace a model file's own defaults (a defaulted prior.R0 does not).
    std::set<std::string> priors_given;
    int threads = 1;  // OpenMP threads across samples of a batch
    // Exact SSA models: the most events one sample may cost under the priors (about
    // 15 ns each); a larger population is refused before any rank starts simulating.
    double max_ssa_events = 1e7;
    // A simulator rank that drops more than this share of its samples stops the run
    // (stream::DropMonitor, which reads it from StreamConfig).
    double max_dropped_fraction = 0.5;
};

class Task {
public:
    virtual ~Task() = default;
    virtual const SampleLayout& layout() const = 0;
    // Samples per generate_block call (the simulator's preferred block).
    virtual int block_size() const { return 32; }
    // Simulates one sample into row 0 of `out`. Returns false when the sample must be
    // dropped (a non-finite or negative value, or a simulator exception); it then never
    // reaches a trainer.
    virtual bool generate(SampleStream& rng, double prior_width, const SampleRows& out) const;
    // `count` samples at once, sample j from rngs[j] into row j of `out`; valid[j] = 0
    // for a sample to drop.
    virtual void generate_block(SampleStream* rngs, int count, double prior_width, const SampleRows& out,
                                char* valid) const = 0;
    // The simulator and parameter vector of the sample whose stream `rng` is, e.g.
    // "sir with R0 = 0.71, gamma = 0.2, ...": the prior draws come first in a sample's
    // stream, so they can be made again without simulating (for error messages).
    virtual std::string describe_sample(SampleStream& rng, double prior_width) const = 0;
    // Every parameter a sample can have (a mixture: every mechanism's, in order of first
    // appearance), and the prior draws of the sample whose stream `rng` is, one per
    // name (NaN for a parameter its mechanism lacks).
    virtual const std::vector<std::string>& parameter_names() const = 0;
    virtual void draw_parameters(SampleStream& rng, double prior_width, double* out) const = 0;
    // Simulates and observes one series from given parameters (one per name of
    // parameter_names(), none NaN) with the simulation's and observation's draws from
    // `rng`, into `inputs` (layout().n_inputs, as the network sees them): a posterior
    // predictive check's replicate. Returns false where the sample would be dropped.
    // A mixture throws std::logic_error: its mechanism is not a parameter.
    virtual bool simulate_from(const double* parameters, SampleStream& rng, float* inputs) const = 0;
    // The prior of each parameter, in parameter_names() order (empty where a task
    // cannot say: a mixture's mechanisms may differ).
    virtual std::vector<ParameterPrior> parameter_priors() const { return {}; }
};

// A simulator's task's parameters: the simulator's, then the observation model's, then
// onset_offset when options.onset_offset is on.
std::vector<std::string> task_parameters(const std::string& model, const std::vector<std::string>& observation,
                                         const SimulatorOptions& options = {});

// What a simulator's task offers: every parameter (task_parameters), the simulator's
// derived quantities, and log_ of each.
std::vector<std::string> available_targets(const std::string& model, const std::vector<std::string>& observation,
                                           const SimulatorOptions& options = {});

// The simulators a task runs: the mechanisms of a mixture, or sim.model.
std::vector<std::string> task_simulators(const TaskConfig& config);

// The prior of parameter `name` in the samples of `model` (one of the task's
// simulators): prior.NAME, else the catalog's default, except where
// sim.generation_interval sets it (a fixed value). Throws ConfigError for a bad spec.
ParameterPrior task_prior(const TaskConfig& config, const std::string& model, const std::string& name);

// The support of `target` (a name of the task's layout) under config's priors.
TargetSupport target_support(const TaskConfig& config, const std::string& target);

// The task parameter of sim.onset_offset: entries simulated before the observed window.
inline constexpr const char* kOnsetOffset = "onset_offset";

// The target that asks a mixture to classify its mechanisms.
inline constexpr const char* kMechanismTarget = "mechanism";
// The target that stands for every parameter (in a mixture, of every mechanism: the
// padded, masked parameter vector).
inline constexpr const char* kAllParameters = "parameters";

// `targets` with kAllParameters replaced by the `parameters` not listed otherwise.
// Throws ConfigError naming sim.targets if a target is then listed twice.
std::vector<std::string> expand_targets(const std::vector<std::string>& targets,
                                        const std::vector<std::string>& parameters);

// Builds the task named by config.model (sim/mixture.hpp for mixtures); throws
// ConfigError naming the bad key.
std::unique_ptr<Task> make_task(const TaskConfig& config);
// One simulator's task. `component` (a mixture's part) may have no targets at all.
std::unique_ptr<Task> make_simulator_task(const TaskConfig& config, bool component = false);

// Where generate_samples writes: `capacity` slots of each array.
struct SampleArrays {
    std::uint64_t* indices;
    float* inputs;
    float* targets;
    float* labels;
    int capacity;
};

struct GenerateResult {
    int valid = 0;
    int dropped = 0;
    std::uint64_t first_dropped = 0;  // index of the first dropped sample (when dropped > 0)
};

// Generates samples first_index .. first_index+count-1 and packs the valid ones in
// index order. Each sample uses its own stream, so the result does not depend on the
// thread count.
GenerateResult generate_samples(const Task& task, std::uint64_t seed, Purpose purpose, std::uint64_t first_index,
                                int count, double prior_width, const SampleArrays& out, int threads = 1);

// Samples first .. first+count-1 as one row per sample index, dropped ones included
// (inputs and targets NaN, label -1, valid 0), with every sample's prior draws: the
// rows of corpora and memory banks, whose files do not depend on who simulated what.
struct IndexedSamples {
    std::vector<float> inputs, targets;  // count x n_inputs, count x n_targets
    std::vector<double> parameters;      // count x task.parameter_names().size()
    std::vector<std::int64_t> labels;
    std::vector<std::uint64_t> indices;
    std::vector<std::uint8_t> valid;
    GenerateResult result;
};
IndexedSamples generate_indexed_samples(const Task& task, std::uint64_t seed, Purpose purpose,
                                        std::uint64_t first_index, int count, int threads = 1);

}  // namespace sgnn::sim
