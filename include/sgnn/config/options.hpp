// Options: how sgnn reads settings. An option is an OptionSpec: its key (a
// "section.name" as in the INI file, or a bare name for top-level settings), default,
// allowed values and help. The same key works in a config file and on the command
// line (--section.name VALUE); the command line wins. A command's table of options
// (run/options.hpp for `sgnn train`) is parsed here into ParsedOptions, read back
// through OptionReader with every value checked against its spec, and written out
// as an INI file (config.ini) that --config reads back.
#pragma once

#include "sgnn/config/option_spec.hpp"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sgnn::config {

// The spec of `key` among `specs`, or nullptr when there is none.
const OptionSpec* find_option(const std::vector<OptionSpec>& specs, const std::string& key);

// An open section: a spec whose key is "SECTION.*" (prior.*) accepts any key
// SECTION.NAME that no other spec declares, NAME a word (letters, digits, _): the
// options a model file brings (the priors of its own parameters). They are parsed,
// kept and written to config.ini like the others, and checked by whoever reads them.
inline bool is_open_section(const OptionSpec& spec) {
    return spec.key.size() > 2 && spec.key.compare(spec.key.size() - 2, 2, ".*") == 0;
}

struct ParsedOptions {
    std::map<std::string, std::string> values;  // every key, effective value
    std::map<std::string, std::string> origin;  // key -> "command line", the config file, or "default"
    std::string config_file;
    bool help = false;
    std::vector<std::string> open_keys;  // the keys of open sections that were given, sorted
};

// Parses argv (after the subcommand words) and the --config file, over `base_config`
// (INI text: a resumed checkpoint's configuration, reported as `base_origin`). The
// command line wins over the file, the file over the base. Throws ConfigError for
// unknown keys, unreadable files or malformed syntax.
ParsedOptions parse_options(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
                            const std::string& base_config = "", const std::string& base_origin = "");

// Typed reads of parsed options, each checked against its spec; a failure is a
// ConfigError naming the key, the bad value, where it came from and what is allowed.
class OptionReader {
public:
    OptionReader(const ParsedOptions& options, const std::vector<OptionSpec>& specs)
        : options_(options), specs_(specs) {}
    [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
    double number(const std::string& key) const;
    std::int64_t integer(const std::string& key) const;
    int small_integer(const std::string& key) const;
    bool boolean(const std::string& key) const;
    std::string choice(const std::string& key) const;
    std::string text(const std::string& key) const;
    // A comma-separated list of finite numbers (the key's value, or `part` of it).
    std::vector<double> numbers(const std::string& key, const std::string& part = "") const;
    // The text of `key`, passed to `check`, which throws ConfigError for a bad value
    // (a prior spec parsed against its parameter's domain); the failure names the key,
    // its origin and `role` (what uses the value).
    std::string checked(const std::string& key, const std::function<void(const std::string&)>& check,
                        const std::string& role) const;
    // Whether `key` was set (command line, config file, or a resumed run's), not defaulted.
    bool given(const std::string& key) const;
    // The keys of open sections that were given (prior.NAME of a model file's parameter).
    const std::vector<std::string>& open_keys() const { return options_.open_keys; }

private:
    const ParsedOptions& options_;
    const std::vector<OptionSpec>& specs_;
};

// The flags of one command beside the run's options (sgnn simulate --samples N, sgnn
// bank --run DIR): given on the command line only, never in a config file or
// config.ini. Each command declares its flags as OptionSpecs beside its code (key
// without the dashes); they are parsed here, by the same parser as the run's options,
// and read back checked against their specs. A bad value is a ConfigError
// "--KEY = 'VALUE': must be ...".
class CommandFlags {
public:
    // Takes the flags out of `args` (`--key VALUE`, `--key=VALUE`, a boolean flag
    // alone) and leaves the rest, in order, for parse_options. Throws ConfigError for a
    // flag without its value.
    CommandFlags(std::vector<std::string>& args, const std::vector<OptionSpec>& flags);
    bool given(const std::string& key) const;  // on the command line, not defaulted
    std::string text(const std::string& key) const;
    double number(const std::string& key) const;
    std::int64_t integer(const std::string& key) const;
    bool boolean(const std::string& key) const;
    std::string choice(const std::string& key) const;

private:
    std::vector<OptionSpec> specs_;  // keys with their leading "--", as messages name them
    ParsedOptions parsed_;
    OptionReader reader_;
    std::set<std::string> given_;
};

// The effective configuration as an INI file that `--config` reads back.
std::string effective_ini(const ParsedOptions& options, const std::vector<OptionSpec>& specs);

// Throws ConfigError "WHAT: config incompatible: KEY is 'A' in the file but 'B' now;
// ADVICE" for the first key `matters` selects whose value differs.
void require_same_settings(const std::string& what, const std::string& recorded_ini, const std::string& current_ini,
                           const std::function<bool(const std::string&)>& matters, const std::string& advice);

// The options section of --help.
std::string options_help(const std::vector<OptionSpec>& specs);
// A command's flags for its --help, one entry each, as options_help writes them.
std::string flags_help(const std::vector<OptionSpec>& flags);

}  // namespace sgnn::config
