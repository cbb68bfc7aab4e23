// Model files: a compartmental model written as text (models/NAME.model), run by
// sim/compartmental_model.hpp. docs/models.md is the reference; in short:
//
//   # SEIR: ...                       comments start with #
//   description = daily SEIR          optional, for sgnn list simulators
//
//   [parameters]                      NAME = PRIOR  (the prior syntax of prior.NAME)
//   R0 = loguniform(1.5, 5)           # a comment after a line is its help
//   ...
//   [derived]                         NAME = EXPRESSION of parameters and earlier
//   gamma = 1 / infectious_period       derived quantities; each is also a target
//   [compartments]                    NAME = initial state, an expression of the above
//   S = population - initial_infected
//   [transitions]                     FROM -> TO : RATE (individuals per day); a rate
//   S -> E : beta * S * I / N           may use compartments, N (their total) and t
//   -> S : mu * N                       (days since the seeding); no FROM: a source,
//   I -> : mu * I                       no TO: a sink
//   [observe]                         one channel per line:
//   incidence = E -> I                  the flow of transitions per day (joined by +),
//   prevalence = I                      or compartments at the end of each day
//
// Every error is a ConfigError "FILE:LINE:COLUMN: what is wrong".
#pragma once

#include <string>
#include <vector>

namespace sgnn::sim {

// Where a piece of a model file is: for messages.
struct ModelLocation {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
};

struct ModelParameter {
    std::string name, prior, help;
    ModelLocation at;
};

// A derived quantity or a compartment's initial state: NAME = EXPRESSION.
struct ModelDefinition {
    std::string name, expression, help;
    ModelLocation at, expression_at;
};

struct ModelTransition {
    int from = -1, to = -1;  // compartment indices; -1: a source (from) or sink (to)
    std::string rate;
    ModelLocation at, rate_at;
};

struct ModelChannel {
    enum class Kind { incidence, prevalence };
    std::string name;
    Kind kind = Kind::incidence;
    std::vector<int> terms;  // transition indices (incidence) or compartment indices (prevalence)
    ModelLocation at;
};

struct ModelDescription {
    std::string file;  // as given
    std::string description;
    std::vector<ModelParameter> parameters;
    std::vector<ModelDefinition> derived;
    std::vector<ModelDefinition> compartments;  // expression: the initial state
    std::vector<ModelTransition> transitions;
    std::vector<ModelChannel> channels;

    // "FILE:LINE:COLUMN"
    std::string where(const ModelLocation& at) const;
};

// Reads and checks a model file: the sections, names (unique, not reserved), priors,
// every expression compiled against the symbols it may use, transitions between
// declared compartments, every compartment in some transition, at least one channel.
// Throws ConfigError "FILE:LINE:COLUMN: ...".
ModelDescription read_model_file(const std::string& path);
// The same for text already read (`file` names it in messages).
ModelDescription parse_model(const std::string& text, const std::string& file);

// Whether sim.model (or a mixture's mechanism) names a model file rather than a
// built-in simulator: it ends in ".model".
bool is_model_file(const std::string& model);

// A run keeps a copy of each model file it uses, as RUN/models/NAME with NAME the
// file's own name (run/run.cpp writes them), so that reading the run again (sgnn
// predict, bank, attribute, a resume) gets the model its network was trained on, even
// after the file is edited or moved. config.ini keeps the path as given: the class
// names of a mixture, and a replay with --config, stay those of the original.
//
// After read_model_files_from(DIR), read_model_file(path) and model_file_text(path)
// read DIR/NAME instead of path when that file exists, and name it in their errors.
// One directory per process: the run being read. "" reads every file from its path.
void read_model_files_from(const std::string& directory);
// The text read_model_file(path) parses: the run's copy, or the file at path.
std::string model_file_text(const std::string& path);
// The name of a model file's copy in RUN/models/: its own name.
std::string model_file_copy_name(const std::string& path);
// RUN/models: where a run keeps its copies.
std::string model_copies_directory(const std::string& run_dir);

}  // namespace sgnn::sim
