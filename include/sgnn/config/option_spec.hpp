// One option of sgnn: its key, type, default, allowed values and help. Each module
// declares the options of its settings beside its config struct (sim/options.hpp,
// stream/options.hpp, train/options.hpp, coord/options.hpp, run/options.hpp), with the
// default taken from the struct's own default member, so that the struct is the one
// source of every default. Parsing and checked reading are config/options.hpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace sgnn::config {

struct OptionSpec {
    enum class Type { integer, real, boolean, text, choice, prior };
    std::string key;  // "section.name" as in the INI file, or a bare name for top-level settings
    Type type;
    std::string default_value;
    std::string help;
    double min = 0.0;  // integer and real: allowed range, inclusive
    double max = 0.0;
    std::vector<std::string> choices;
    bool hidden = false;  // test-only options, left out of --help

    std::string allowed() const;  // "an integer in [1, 4096]", "one of: mlp, cnn", ...
};

// A struct's default as an option's default text, written as people write it: "256",
// "0.001", "1e-08", "1e7", "true", "a,b,c".
inline std::string default_text(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    std::string s = text;
    const auto plus = s.find("e+");
    if (plus != std::string::npos) {  // 1e+07 -> 1e7
        std::size_t digits = plus + 2;
        while (digits + 1 < s.size() && s[digits] == '0') ++digits;
        s = s.substr(0, plus + 1) + s.substr(digits);
    }
    return s;
}
inline std::string default_text(int value) { return std::to_string(value); }
inline std::string default_text(std::int64_t value) { return std::to_string(value); }
inline std::string default_text(std::uint64_t value) { return std::to_string(value); }
inline std::string default_text(bool value) { return value ? "true" : "false"; }
inline std::string default_text(const std::string& value) { return value; }
inline std::string default_text(const std::vector<std::string>& values) {
    std::string text;
    for (const auto& v : values) text += (text.empty() ? "" : ",") + v;
    return text;
}
inline std::string default_text(const std::vector<double>& values) {
    std::string text;
    for (double v : values) text += (text.empty() ? "" : ",") + default_text(v);
    return text;
}

}  // namespace sgnn::config
