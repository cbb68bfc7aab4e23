#include "sgnn/config/options.hpp"

#include "sgnn/error.hpp"
#include "sgnn/text.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <sstream>

namespace sgnn::config {
namespace po = boost::program_options;
using Type = OptionSpec::Type;

namespace {

// PETSc options on the command line (-ts_type rk, -ts_monitor): a single dash and a
// name of two or more characters, then a value unless the next word is an option.
// Returns the other arguments; `petsc` gets the PETSc options as one string.
std::vector<std::string> split_petsc_options(const std::vector<std::string>& args, std::string& petsc) {
    std::vector<std::string> rest;
    auto is_petsc_name = [](const std::string& a) {
        return a.size() > 2 && a[0] == '-' && a[1] != '-' && std::isalpha(static_cast<unsigned char>(a[1]));
    };
    auto is_value = [&](const std::string& a) {
        if (a.empty() || a[0] != '-') return true;
        double number = 0.0;
        return parse_decimal(a, number);  // a negative number
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        // The value of --ode.petsc_options ("-ts_adapt_type basic") is sgnn's, and so is
        // any word with a space in it: PETSc option names have none.
        const bool value_of_previous = i > 0 && args[i - 1] == "--ode.petsc_options";
        if (!is_petsc_name(args[i]) || value_of_previous || args[i].find(' ') != std::string::npos) {
            rest.push_back(args[i]);
            continue;
        }
        petsc += (petsc.empty() ? "" : " ") + args[i];
        if (i + 1 < args.size() && is_value(args[i + 1]) && args[i + 1].rfind("--", 0) != 0) {
            petsc += " " + args[++i];
        }
    }
    return rest;
}

const OptionSpec& find_spec(const std::vector<OptionSpec>& specs, const std::string& key) {
    if (const OptionSpec* spec = find_option(specs, key)) return *spec;
    throw std::logic_error("no option " + key);
}

std::map<std::string, std::string> parse_ini(const std::string& text) {
    std::map<std::string, std::string> values;
    std::istringstream lines(text);
    std::string section;
    for (std::string line; std::getline(lines, line);) {
        const auto b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#' || line[b] == ';') continue;
        if (line[b] == '[') {
            section = line.substr(b + 1, line.find(']') - b - 1);
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        auto trim = [](const std::string& s) {
            const auto first = s.find_first_not_of(" \t"), last = s.find_last_not_of(" \t\r");
            return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
        };
        const std::string key = trim(line.substr(0, eq));
        values[section.empty() ? key : section + "." + key] = trim(line.substr(eq + 1));
    }
    return values;
}

// Whether `key` is SECTION.NAME of an open section of `specs` (a spec SECTION.*), NAME
// a word: letters, digits and _.
bool in_open_section(const std::vector<OptionSpec>& specs, const std::string& key) {
    const auto dot = key.find('.');
    if (dot == std::string::npos || dot + 1 == key.size()) return false;
    const bool word = std::all_of(key.begin() + static_cast<std::ptrdiff_t>(dot) + 1, key.end(),
                                  [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    return word && std::any_of(specs.begin(), specs.end(), [&](const OptionSpec& spec) {
               return is_open_section(spec) && spec.key == key.substr(0, dot + 1) + "*";
           });
}

// The unregistered options of `given` that an open section of `specs` accepts
// (SECTION.NAME for a spec SECTION.*), into `open`; any other is unknown: `unknown`
// makes its error (nullptr: ignored, as in a resumed run's recorded configuration).
template <class Parsed>
void take_open_keys(const Parsed& given, const std::vector<OptionSpec>& specs, std::map<std::string, std::string>& open,
                    const std::function<ConfigError(const std::string&)>& unknown) {
    for (const auto& option : given.options) {
        if (!option.unregistered) continue;
        const std::string& key = option.string_key;
        if (in_open_section(specs, key) && option.value.size() == 1) {
            open[key] = option.value.front();
        } else if (unknown) {
            throw unknown(key);
        }
    }
}

}  // namespace

[[noreturn]] void OptionReader::fail(const std::string& key, const std::string& problem) const {
    const auto origin = options_.origin.find(key);
    const std::string where = origin == options_.origin.end() ? "" : " (" + origin->second + ")";
    throw ConfigError(key + " = '" + printable(options_.values.at(key)) + "'" + where + ": " + problem);
}

double OptionReader::number(const std::string& key) const {
    const OptionSpec& spec = find_spec(specs_, key);
    const std::string& text = options_.values.at(key);
    double v = 0.0;
    const bool parsed = parse_decimal(text, v);
    if (!parsed || (spec.type == Type::integer && std::floor(v) != v) || v < spec.min || v > spec.max) {
        fail(key, "must be " + spec.allowed());
    }
    return v;
}
std::int64_t OptionReader::integer(const std::string& key) const { return static_cast<std::int64_t>(number(key)); }
int OptionReader::small_integer(const std::string& key) const { return static_cast<int>(number(key)); }

bool OptionReader::boolean(const std::string& key) const {
    const std::string& t = options_.values.at(key);
    if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
    if (t == "false" || t == "0" || t == "no" || t == "off") return false;
    fail(key, "must be true or false");
}

std::string OptionReader::choice(const std::string& key) const {
    const OptionSpec& spec = find_spec(specs_, key);
    const std::string& t = options_.values.at(key);
    for (const auto& c : spec.choices) {
        if (c == t) return t;
    }
    fail(key, "must be " + spec.allowed());
}

std::string OptionReader::text(const std::string& key) const { return options_.values.at(key); }

std::vector<double> OptionReader::numbers(const std::string& key, const std::string& part) const {
    std::vector<double> result;
    std::stringstream stream(part.empty() ? options_.values.at(key) : part);
    for (std::string item; std::getline(stream, item, ',');) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        const std::string t = b == std::string::npos ? "" : item.substr(b, e - b + 1);
        double value = 0.0;
        if (!parse_decimal(t, value))
            fail(key, "'" + printable(t) + "' is not a number; write comma-separated numbers");
        result.push_back(value);
    }
    return result;
}

bool OptionReader::given(const std::string& key) const {
    const auto origin = options_.origin.find(key);
    return origin != options_.origin.end() && origin->second != "default";
}

std::string OptionReader::checked(const std::string& key, const std::function<void(const std::string&)>& check,
                                  const std::string& role) const {
    const std::string& t = options_.values.at(key);
    try {
        check(t);
    } catch (const ConfigError& error) {
        const std::string message = error.what();
        const auto colon = message.find("': ");
        fail(key, (colon == std::string::npos ? message : message.substr(colon + 3)) + " (" + role + ")");
    }
    return t;
}

std::string OptionSpec::allowed() const {
    switch (type) {
        case Type::integer:
            return "an integer in [" + format_number(min) + ", " + format_number(max) + "]";
        case Type::real:
            return "a number in [" + format_number(min) + ", " + format_number(max) + "]";
        case Type::boolean:
            return "true or false";
        case Type::choice: {
            std::string list;
            for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
            return "one of: " + list;
        }
        case Type::prior:
            return "fixed(V), uniform(A, B), loguniform(A, B), uniform_int(A, B), normal(M, S), lognormal(M, S), "
                   "truncnormal(M, S, A, B) or categorical(V1:W1, V2:W2, ...)";
        case Type::text:
            return "text";
    }
    return {};
}

const OptionSpec* find_option(const std::vector<OptionSpec>& specs, const std::string& key) {
    for (const auto& spec : specs) {
        if (spec.key == key) return &spec;
    }
    return nullptr;
}

ParsedOptions parse_options(const std::vector<std::string>& all_args, const std::vector<OptionSpec>& specs,
                            const std::string& base_config, const std::string& base_origin) {
    std::string petsc_options;
    std::vector<std::string> args = split_petsc_options(all_args, petsc_options);
    for (std::string& arg : args) {
        // The issue-tracker name of checkpoint.keep, kept as an alias.
        if (arg == "--keep-checkpoints") arg = "--checkpoint.keep";
        if (arg.rfind("--keep-checkpoints=", 0) == 0) arg = "--checkpoint.keep=" + arg.substr(19);
    }
    po::options_description described;
    described.add_options()("help,h", "")("config", po::value<std::string>(), "");
    for (const auto& spec : specs) {
        if (is_open_section(spec)) continue;
        auto* value = po::value<std::string>();
        if (spec.type == Type::boolean) value->implicit_value("true");
        described.add_options()(spec.key.c_str(), value, "");
    }
    po::options_description file_keys;
    for (const auto& spec : specs) {
        if (!is_open_section(spec)) file_keys.add_options()(spec.key.c_str(), po::value<std::string>(), "");
    }

    // Boost cannot know that an undeclared --prior.NAME takes a value: join it to it.
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.rfind("--", 0) != 0 || arg.find('=') != std::string::npos || find_option(specs, arg.substr(2)))
            continue;
        if (in_open_section(specs, arg.substr(2))) {
            args[i] += "=" + args[i + 1];
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        }
    }

    ParsedOptions parsed;
    po::variables_map command_line, file, base;
    // Keys of open sections (prior.NAME of a model file's own parameter), by origin.
    std::map<std::string, std::string> open_command_line, open_file, open_base;
    try {
        const auto given = po::command_line_parser(args)
                               .options(described)
                               .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                               .allow_unregistered()
                               .run();
        po::store(given, command_line);
        take_open_keys(given, specs, open_command_line, [](const std::string& key) {
            return ConfigError("unknown option '" + printable(key) + "' (the options are listed by --help)");
        });
    } catch (const po::error& error) {
        throw ConfigError("command line: " + printable(error.what()));
    }
    parsed.help = command_line.count("help") > 0;
    if (!base_config.empty()) {
        std::istringstream stream(base_config);
        try {
            const auto given = po::parse_config_file(stream, file_keys, true);
            po::store(given, base);
            take_open_keys(given, specs, open_base, nullptr);
        } catch (const po::error& error) {
            throw ConfigError(base_origin + ": " + error.what());
        }
    }
    if (command_line.count("config")) {
        parsed.config_file = command_line["config"].as<std::string>();
        const std::string shown = printable(parsed.config_file);
        std::error_code error;
        if (std::filesystem::is_directory(parsed.config_file, error)) {
            throw ConfigError("config file '" + shown + "': is a directory; give a config file (such as " +
                              "configs/quickstart.cfg, or a run's config.ini)");
        }
        std::ifstream in(parsed.config_file, std::ios::binary);
        if (!in) throw ConfigError("config file '" + shown + "': cannot be read");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // an editor's UTF-8 byte order mark
        std::istringstream stream(text);
        try {
            const auto given = po::parse_config_file(stream, file_keys, true);
            po::store(given, file);
            take_open_keys(given, specs, open_file, [&](const std::string& key) {
                return ConfigError("config file '" + shown + "': unknown key '" + printable(key) +
                                   "' (sgnn train --help lists every key)");
            });
        } catch (const po::error& error) {
            throw ConfigError("config file '" + shown + "': " + printable(error.what()));
        }
    }
    for (const auto& spec : specs) {
        if (is_open_section(spec)) continue;
        if (command_line.count(spec.key)) {
            parsed.values[spec.key] = command_line[spec.key].as<std::string>();
            parsed.origin[spec.key] = "command line";
        } else if (file.count(spec.key)) {
            parsed.values[spec.key] = file[spec.key].as<std::string>();
            parsed.origin[spec.key] = "config file " + parsed.config_file;
        } else if (base.count(spec.key)) {
            parsed.values[spec.key] = base[spec.key].as<std::string>();
            parsed.origin[spec.key] = base_origin;
        } else {
            parsed.values[spec.key] = spec.default_value;
            parsed.origin[spec.key] = "default";
        }
    }
    for (const auto* open : {&open_base, &open_file, &open_command_line}) {
        for (const auto& [key, value] : *open) {
            parsed.values[key] = value;
            parsed.origin[key] = open == &open_command_line ? "command line"
                                 : open == &open_file       ? "config file " + parsed.config_file
                                                            : base_origin;
        }
    }
    for (const auto& [key, value] : parsed.values) {
        if (!find_option(specs, key)) parsed.open_keys.push_back(key);
    }
    // A value goes into config.ini and checkpoints as one INI line, and into one-line
    // messages: a newline would inject keys or sections, so control characters are refused.
    for (const auto& [key, value] : parsed.values) {
        if (has_control_character(value)) {
            throw ConfigError(key + " = '" + printable(value) + "' (" + parsed.origin[key] +
                              "): control characters (newline, tab, ...) are not allowed in values");
        }
    }
    if (has_control_character(petsc_options)) {
        throw ConfigError("PETSc options '" + printable(petsc_options) + "': control characters are not allowed");
    }
    if (!petsc_options.empty()) {
        const auto it = parsed.values.find("ode.petsc_options");
        if (it == parsed.values.end()) throw ConfigError("unknown option '" + printable(petsc_options) + "'");
        it->second += (it->second.empty() ? "" : " ") + petsc_options;
        parsed.origin["ode.petsc_options"] = "command line";
    }
    return parsed;
}

void require_same_settings(const std::string& what, const std::string& recorded_ini, const std::string& current_ini,
                           const std::function<bool(const std::string&)>& matters, const std::string& advice) {
    const auto before = parse_ini(recorded_ini), now = parse_ini(current_ini);
    for (const auto& [key, value] : before) {
        if (!matters(key)) continue;
        const auto it = now.find(key);
        if (it != now.end() && it->second == value) continue;
        const std::string current = it == now.end() ? "not an option of this sgnn" : "'" + it->second + "' now";
        throw ConfigError(what + ": config incompatible: " + key + " is '" + value + "' in the file but " + current +
                          "; " + advice);
    }
}

std::string effective_ini(const ParsedOptions& options, const std::vector<OptionSpec>& specs) {
    std::string text =
        "# Effective configuration of an sgnn run: every option with the value it had.\n"
        "# Reproduce the run with:  sgnn train --config config.ini --out NEW_DIR\n";
    std::string section = "";
    for (const auto& spec : specs) {
        const auto dot = spec.key.find('.');
        const std::string key_section = dot == std::string::npos ? "" : spec.key.substr(0, dot);
        const std::string name = dot == std::string::npos ? spec.key : spec.key.substr(dot + 1);
        if (key_section != section) {
            text += "\n[" + key_section + "]\n";
            section = key_section;
        }
        if (is_open_section(spec)) {  // the keys given for it, in name order
            const std::string prefix = spec.key.substr(0, spec.key.size() - 1);
            for (const auto& key : options.open_keys) {
                if (key.rfind(prefix, 0) == 0)
                    text += key.substr(prefix.size()) + " = " + options.values.at(key) + "\n";
            }
            continue;
        }
        const std::string& value = options.values.at(spec.key);
        // The output directory is recorded but commented out, so a rerun writes elsewhere.
        text += (spec.key == "out" ? "# " : "") + name + " = " + value + "\n";
    }
    return text;
}

namespace {

// One option in --help: "  --key VALUE   help. Allowed: ... Default: ...", wrapped.
std::string help_entry(const OptionSpec& spec) {
    // An open section's entry stands for its keys: --prior.NAME.
    std::string left = "  --" + (is_open_section(spec) ? spec.key.substr(0, spec.key.size() - 1) + "NAME" : spec.key);
    if (spec.type != Type::boolean) left += " " + std::string(spec.type == Type::prior ? "PRIOR" : "VALUE");
    const std::size_t column = 34;
    if (left.size() < column) {
        left.resize(column, ' ');
    } else {
        left += "\n" + std::string(column, ' ');
    }
    const std::string details = spec.help + ". Allowed: " + spec.allowed() +
                                ". Default: " + (spec.default_value.empty() ? "(none)" : spec.default_value) + ".";
    return left + wrap(details, 100 - column, column) + "\n";
}

}  // namespace

std::string options_help(const std::vector<OptionSpec>& specs) {
    std::string text;
    std::string section = "-";
    for (const auto& spec : specs) {
        if (spec.hidden) continue;
        const auto dot = spec.key.find('.');
        const std::string key_section = dot == std::string::npos ? "" : spec.key.substr(0, dot);
        if (key_section != section) {
            text += key_section.empty() ? "\nRun options:\n" : "\n[" + key_section + "] options:\n";
            section = key_section;
        }
        text += help_entry(spec);
    }
    return text;
}

std::string flags_help(const std::vector<OptionSpec>& flags) {
    std::string text = "\n";
    for (const auto& spec : flags) {
        if (!spec.hidden) text += help_entry(spec);
    }
    return text;
}

CommandFlags::CommandFlags(std::vector<std::string>& args, const std::vector<OptionSpec>& flags)
    : specs_(flags), reader_(parsed_, specs_) {
    po::options_description described;
    for (const auto& spec : flags) {
        auto* value = po::value<std::string>();
        if (spec.type == Type::boolean) value->implicit_value("true");
        const std::string name = spec.key == "help" ? "help,h" : spec.key;  // -h as everywhere
        described.add_options()(name.c_str(), value, "");
    }
    po::variables_map given;
    try {
        const po::parsed_options parsed =
            po::command_line_parser(args)
                .options(described)
                .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                .allow_unregistered()
                .run();
        po::store(parsed, given);
        args = po::collect_unrecognized(parsed.options, po::include_positional);
    } catch (const po::error& error) {
        throw ConfigError("command line: " + printable(error.what()));
    }
    for (OptionSpec& spec : specs_) {
        const std::string key = spec.key;
        spec.key = "--" + key;
        parsed_.values[spec.key] = given.count(key) ? given[key].as<std::string>() : spec.default_value;
        if (given.count(key)) given_.insert(key);
    }
}

bool CommandFlags::given(const std::string& key) const { return given_.count(key) > 0; }
std::string CommandFlags::text(const std::string& key) const { return reader_.text("--" + key); }
double CommandFlags::number(const std::string& key) const { return reader_.number("--" + key); }
std::int64_t CommandFlags::integer(const std::string& key) const { return reader_.integer("--" + key); }
bool CommandFlags::boolean(const std::string& key) const { return reader_.boolean("--" + key); }
std::string CommandFlags::choice(const std::string& key) const { return reader_.choice("--" + key); }

}  // namespace sgnn::config
