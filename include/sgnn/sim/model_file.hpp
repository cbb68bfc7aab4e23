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

#include <map>
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

// Model files are kept with what was made from them: a run keeps a copy of each one it
// uses (RUN/models/NAME, run/run.cpp), and a corpus embeds each (its dataset
// model_file:NAME, corpus/corpus_writer.cpp), NAME the file's own name. Whoever reads
// them again (sgnn predict, bank, attribute, a resume, training from a corpus) uses
// those texts, so that the model is the one the network or the samples were made with,
// even after the file is edited, moved or deleted. config.ini keeps the path as given:
// the class names of a mixture, and a replay with --config, stay those of the original.
struct ModelFileCopy {
    std::string origin;  // where the text is kept, for messages ("runs/a/models/sir.model")
    std::string text;
};
// From now on in this process, read_model_file(path) and model_file_text(path) use
// copies[model_file_copy_name(path)] when there is one, and name its origin in their
// errors. Replaces the copies given before: one run or corpus is read per process.
void use_model_file_copies(std::map<std::string, ModelFileCopy> copies);
// The text read_model_file(path) parses: its copy, or the file at path.
std::string model_file_text(const std::string& path);
// The name a model file's copy is kept by: the file's own name.
std::string model_file_copy_name(const std::string& path);
// RUN/models: where a run keeps its copies.
std::string model_copies_directory(const std::string& run_dir);
// The copies a run directory keeps, by name (none for a run without model files).
std::map<std::string, ModelFileCopy> model_file_copies_of_run(const std::string& run_dir);
// A corpus's dataset holding the text of the model file named `name`, and the name
// back from a dataset ("" for a dataset that is not one).
std::string model_file_dataset(const std::string& name);
std::string model_file_of_dataset(const std::string& dataset);

}  // namespace sgnn::sim
