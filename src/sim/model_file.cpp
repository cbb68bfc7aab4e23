#include "sgnn/sim/model_file.hpp"

#include "sgnn/error.hpp"
#include "sgnn/sim/expression.hpp"
#include "sgnn/sim/parameters.hpp"
#include "sgnn/sim/prior.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

namespace sgnn::sim {
namespace {

// One line of the file without its comment, with where things are in it.
struct Line {
    int number = 0;
    std::string text;     // the line up to its comment, trailing blanks removed
    std::string comment;  // after '#', trimmed
    int indent = 0;       // blanks before the text
};

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return "";
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

bool is_name(const std::string& s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The names a model gives its own meaning to besides its declarations.
constexpr const char* kTotal = "N";
constexpr const char* kTime = "t";

class Parser {
public:
    Parser(const std::string& text, std::string file) {
        model_.file = std::move(file);
        std::istringstream in(text);
        std::string raw;
        for (int number = 1; std::getline(in, raw); ++number) {
            if (number == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
            Line line;
            line.number = number;
            const auto hash = raw.find('#');
            if (hash != std::string::npos) {
                line.comment = trim(raw.substr(hash + 1));
                raw.erase(hash);
            }
            line.indent = static_cast<int>(
                raw.find_first_not_of(" \t\r") == std::string::npos ? 0 : raw.find_first_not_of(" \t\r"));
            line.text = trim(raw);
            lines_.push_back(line);
        }
    }

    ModelDescription parse() {
        std::string section;
        for (const Line& line : lines_) {
            if (line.text.empty()) continue;
            if (line.text.front() == '[') {
                section = section_of(line);
                continue;
            }
            if (section.empty()) {
                header(line);
            } else if (section == "parameters") {
                parameter(line);
            } else if (section == "derived") {
                model_.derived.push_back(definition(line, "derived quantity"));
            } else if (section == "compartments") {
                model_.compartments.push_back(definition(line, "compartment"));
            } else if (section == "transitions") {
                transitions_.push_back(line);  // after every compartment is known
            } else {
                channels_.push_back(line);
            }
        }
        for (const Line& line : transitions_) transition(line);
        for (const Line& line : channels_) channel(line);
        check();
        return std::move(model_);
    }

private:
    [[noreturn]] void fail(const Line& line, int column, const std::string& message) const {
        throw ConfigError(model_.where({line.number, column}) + ": " + message);
    }

    int column_of(const Line& line, const std::string& part, std::size_t from = 0) const {
        const auto at = line.text.find(part, from);
        return line.indent + 1 + static_cast<int>(at == std::string::npos ? 0 : at);
    }

    std::string section_of(const Line& line) {
        static const std::vector<std::string> known = {"parameters", "derived", "compartments", "transitions",
                                                       "observe"};
        if (line.text.back() != ']') fail(line, line.indent + 1, "a section header is [NAME]");
        const std::string name = trim(line.text.substr(1, line.text.size() - 2));
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            fail(line, line.indent + 2,
                 "unknown section [" + name +
                     "]; the sections are [parameters], [derived], [compartments], "
                     "[transitions] and [observe]");
        }
        if (!seen_sections_.insert(name).second) fail(line, line.indent + 2, "section [" + name + "] appears twice");
        return name;
    }

    // NAME = VALUE, split; fails naming what the line should be.
    std::pair<std::string, std::string> assignment(const Line& line, const std::string& what) const {
        const auto equals = line.text.find('=');
        if (equals == std::string::npos) fail(line, line.indent + 1, "expected NAME = ... (" + what + ")");
        return {trim(line.text.substr(0, equals)), trim(line.text.substr(equals + 1))};
    }

    void declare(const Line& line, const std::string& name, const std::string& what) {
        const int column = line.indent + 1;
        if (!is_name(name)) {
            fail(line, column,
                 "'" + printable(name) + "' is not a name (letters, digits and _, not starting with a digit)");
        }
        if (name == kTotal || name == kTime || is_reserved_name(name)) {
            fail(line, column,
                 "'" + name +
                     "' is reserved (N is the total, t the time, and functions and pi keep "
                     "their meaning); choose another name for this " +
                     what);
        }
        const auto [it, fresh] = declared_.emplace(name, line.number);
        if (!fresh) fail(line, column, "'" + name + "' is already declared on line " + std::to_string(it->second));
    }

    void header(const Line& line) {
        const auto [key, value] = assignment(line, "description = TEXT, or a [section]");
        if (key != "description") {
            fail(line, line.indent + 1,
                 "unknown setting '" + printable(key) +
                     "' before the first section (only "
                     "description = TEXT goes there)");
        }
        model_.description = value;
    }

    void parameter(const Line& line) {
        const auto [name, prior] = assignment(line, "a parameter and its prior");
        declare(line, name, "parameter");
        // A name of the parameter catalog keeps its meaning and domain (population is a
        // whole number of at least 1); a model's own parameter may take any real value.
        const ParameterDomain domain = parameter_domain(name);
        try {
            ParameterPrior::parse("prior." + name, prior, domain);
        } catch (const ConfigError& error) {
            fail(line, column_of(line, prior, line.text.find('=')), error.what());
        }
        model_.parameters.push_back({name, prior, line.comment, {line.number, line.indent + 1}});
    }

    ModelDefinition definition(const Line& line, const std::string& what) {
        const auto [name, expression] = assignment(line, "a " + what + " and its expression");
        declare(line, name, what);
        if (expression.empty())
            fail(line, column_of(line, "=") + 1, "the " + what + " '" + name + "' has no expression");
        return {name,
                expression,
                line.comment,
                {line.number, line.indent + 1},
                {line.number, column_of(line, expression, line.text.find('='))}};
    }

    int compartment(const std::string& name) const {
        for (std::size_t c = 0; c < model_.compartments.size(); ++c) {
            if (model_.compartments[c].name == name) return static_cast<int>(c);
        }
        return -1;
    }

    // FROM -> TO : RATE, either side of the arrow may be empty.
    void transition(const Line& line) {
        const auto arrow = line.text.find("->");
        const auto colon = line.text.find(':', arrow == std::string::npos ? 0 : arrow);
        if (arrow == std::string::npos || colon == std::string::npos) {
            fail(line, line.indent + 1, "expected FROM -> TO : RATE (leave FROM empty for a source, TO for a sink)");
        }
        ModelTransition t;
        t.at = {line.number, line.indent + 1};
        const std::string from = trim(line.text.substr(0, arrow));
        const std::string to = trim(line.text.substr(arrow + 2, colon - arrow - 2));
        for (const auto& [side, name, column] :
             {std::tuple{&t.from, from, line.indent + 1}, std::tuple{&t.to, to, column_of(line, to, arrow + 2)}}) {
            if (name.empty()) continue;
            *side = compartment(name);
            if (*side < 0) {
                fail(line, column, "'" + printable(name) + "' is not a compartment (declare it under [compartments])");
            }
        }
        if (t.from < 0 && t.to < 0) fail(line, line.indent + 1, "a transition needs a FROM or a TO compartment");
        if (t.from >= 0 && t.from == t.to) fail(line, line.indent + 1, "a transition from '" + from + "' to itself");
        t.rate = trim(line.text.substr(colon + 1));
        if (t.rate.empty()) fail(line, column_of(line, ":") + 1, "the transition has no rate");
        t.rate_at = {line.number, column_of(line, t.rate, colon + 1)};
        model_.transitions.push_back(t);
    }

    // NAME = FROM -> TO [+ FROM -> TO ...]   or   NAME = C [+ C ...]
    void channel(const Line& line) {
        const auto [name, terms] = assignment(line, "a channel: NAME = FROM -> TO, or NAME = COMPARTMENT");
        declare(line, name, "channel");
        ModelChannel c;
        c.name = name;
        c.at = {line.number, line.indent + 1};
        const bool incidence = terms.find("->") != std::string::npos;
        c.kind = incidence ? ModelChannel::Kind::incidence : ModelChannel::Kind::prevalence;
        std::size_t from = line.text.find('=') + 1;
        for (const std::string& raw : split_terms(terms)) {
            const std::string term = trim(raw);
            const int column = column_of(line, term, from);
            from = static_cast<std::size_t>(column - line.indent - 1) + term.size();
            if (incidence) {
                c.terms.push_back(transition_named(line, term, column));
            } else {
                const int index = compartment(term);
                if (index < 0) {
                    fail(line, column,
                         "'" + printable(term) +
                             "' is not a compartment; a channel is the flow of "
                             "transitions (FROM -> TO) or the size of compartments, not both");
                }
                c.terms.push_back(index);
            }
        }
        model_.channels.push_back(c);
    }

    static std::vector<std::string> split_terms(const std::string& text) {
        std::vector<std::string> terms;
        std::string current;
        for (char ch : text) {
            if (ch == '+') {
                terms.push_back(current);
                current.clear();
            } else {
                current += ch;
            }
        }
        terms.push_back(current);
        return terms;
    }

    int transition_named(const Line& line, const std::string& term, int column) const {
        const auto arrow = term.find("->");
        if (arrow == std::string::npos) {
            fail(line, column,
                 "'" + printable(term) +
                     "' is not a transition; a channel is the flow of transitions "
                     "(FROM -> TO) or the size of compartments, not both");
        }
        const std::string from = trim(term.substr(0, arrow)), to = trim(term.substr(arrow + 2));
        for (std::size_t i = 0; i < model_.transitions.size(); ++i) {
            const ModelTransition& t = model_.transitions[i];
            const std::string t_from = t.from < 0 ? "" : model_.compartments[static_cast<std::size_t>(t.from)].name;
            const std::string t_to = t.to < 0 ? "" : model_.compartments[static_cast<std::size_t>(t.to)].name;
            if (t_from == from && t_to == to) return static_cast<int>(i);
        }
        fail(line, column, "no transition " + printable(term) + " under [transitions]");
    }

    // What the whole model must satisfy, and every expression compiled against what it
    // may use: parameters, then derived quantities in order (each may use those before
    // it), then compartments, N and t (rates only).
    void check() {
        const ModelLocation top{1, 1};
        if (model_.parameters.empty()) throw ConfigError(model_.where(top) + ": no [parameters]");
        if (model_.compartments.empty()) throw ConfigError(model_.where(top) + ": no [compartments]");
        if (model_.transitions.empty()) throw ConfigError(model_.where(top) + ": no [transitions]");
        if (model_.channels.empty()) {
            throw ConfigError(model_.where(top) +
                              ": nothing observed; add an [observe] section, e.g. incidence = E -> I");
        }
        std::vector<std::string> symbols;
        for (const auto& p : model_.parameters) symbols.push_back(p.name);
        for (const auto& d : model_.derived) symbols.push_back(d.name);
        const int before_compartments = static_cast<int>(symbols.size());
        for (const auto& c : model_.compartments) symbols.push_back(c.name);
        symbols.push_back(kTotal);
        symbols.push_back(kTime);
        ExpressionTable table(symbols);
        const auto compile = [&](const std::string& expression, const ModelLocation& at, int limit,
                                 const std::string& scope) {
            try {
                table.compile(expression, limit);
            } catch (const ExpressionError& error) {
                std::string message = error.what();
                const std::string unknown = "unknown symbol '";
                if (message.rfind(unknown, 0) == 0) {
                    const std::string name = message.substr(unknown.size(), message.size() - unknown.size() - 1);
                    if (std::find(symbols.begin(), symbols.end(), name) != symbols.end()) {
                        message = "'" + name + "' cannot be used here: " + scope;
                    }
                }
                throw ConfigError(model_.where({at.line, at.column + error.position()}) + ": " + message);
            }
        };
        const int n_parameters = static_cast<int>(model_.parameters.size());
        for (std::size_t d = 0; d < model_.derived.size(); ++d) {
            compile(model_.derived[d].expression, model_.derived[d].expression_at, n_parameters + static_cast<int>(d),
                    "a derived quantity uses parameters and the derived quantities above it");
        }
        for (const auto& c : model_.compartments) {
            compile(c.expression, c.expression_at, before_compartments,
                    "an initial state uses parameters and derived quantities, not compartments, N or t");
        }
        for (const auto& t : model_.transitions) compile(t.rate, t.rate_at, -1, "");
        for (std::size_t c = 0; c < model_.compartments.size(); ++c) {
            const bool moves = std::any_of(model_.transitions.begin(), model_.transitions.end(), [&](const auto& t) {
                return t.from == static_cast<int>(c) || t.to == static_cast<int>(c);
            });
            if (!moves) {
                throw ConfigError(model_.where(model_.compartments[c].at) + ": compartment '" +
                                  model_.compartments[c].name +
                                  "' never empties or fills: no transition starts or ends there");
            }
        }
        if (model_.description.empty()) model_.description = "compartmental model from " + model_.file;
    }

    ModelDescription model_;
    std::vector<Line> lines_, transitions_, channels_;
    std::set<std::string> seen_sections_;
    std::map<std::string, int> declared_;  // name -> line
};

}  // namespace

std::string ModelDescription::where(const ModelLocation& at) const {
    return file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

ModelDescription parse_model(const std::string& text, const std::string& file) { return Parser(text, file).parse(); }

namespace {

std::mutex copies_mutex;
std::map<std::string, ModelFileCopy> copies;  // use_model_file_copies's

// The copy read_model_file(path) reads in place of the file, if any.
bool copy_of(const std::string& path, ModelFileCopy& copy) {
    std::lock_guard<std::mutex> lock(copies_mutex);
    const auto it = copies.find(model_file_copy_name(path));
    if (it == copies.end()) return false;
    copy = it->second;
    return true;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read the model file (sim.model names a file ending in .model)");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const std::string kDatasetPrefix = "model_file:";

}  // namespace

ModelDescription read_model_file(const std::string& path) {
    ModelFileCopy copy;
    ModelDescription model =
        copy_of(path, copy) ? parse_model(copy.text, copy.origin) : parse_model(read_text(path), path);
    model.file = path;  // the name the configuration uses
    return model;
}

std::string model_file_text(const std::string& path) {
    ModelFileCopy copy;
    return copy_of(path, copy) ? copy.text : read_text(path);
}

void use_model_file_copies(std::map<std::string, ModelFileCopy> given) {
    std::lock_guard<std::mutex> lock(copies_mutex);
    copies = std::move(given);
}

std::string model_file_copy_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

std::string model_copies_directory(const std::string& run_dir) { return run_dir + "/models"; }

std::map<std::string, ModelFileCopy> model_file_copies_of_run(const std::string& run_dir) {
    std::map<std::string, ModelFileCopy> found;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(model_copies_directory(run_dir), error)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || !is_model_file(name)) continue;
        found[name] = {entry.path().string(), read_text(entry.path().string())};
    }
    return found;
}

std::string model_file_dataset(const std::string& name) { return kDatasetPrefix + name; }

std::string model_file_of_dataset(const std::string& dataset) {
    return dataset.rfind(kDatasetPrefix, 0) == 0 ? dataset.substr(kDatasetPrefix.size()) : "";
}

bool is_model_file(const std::string& model) {
    return model.size() > 6 && model.compare(model.size() - 6, 6, ".model") == 0;
}

}  // namespace sgnn::sim
