// Small text helpers shared by help, error messages and progress lines.
#pragma once

#include "sgnn/error.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace sgnn {

// Numbers as a person writes them: 0.25, 2000, 1e+06 becomes 1e6, 9007199254740992 2^53-ish as 9.007e15.
inline std::string format_number(double v) {
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char text[32];
    if (std::floor(v) == v && std::fabs(v) < 1e7) {
        std::snprintf(text, sizeof text, "%.0f", v);
        return text;
    }
    std::snprintf(text, sizeof text, "%.10g", v);
    std::string s = text;
    // 1e+06 -> 1e6, 2.5e-05 -> 2.5e-5
    const auto e = s.find('e');
    if (e != std::string::npos) {
        std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
        const bool negative = exponent[0] == '-';
        exponent = exponent.substr(exponent[0] == '+' || exponent[0] == '-' ? 1 : 0);
        while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
        s = mantissa + "e" + (negative ? "-" : "") + exponent;
    }
    return s;
}

// Word-wraps `text` to `width` columns; continuation lines start with `indent` spaces.
inline std::string wrap(const std::string& text, std::size_t width, std::size_t indent) {
    std::istringstream words(text);
    std::string word, out, line;
    while (words >> word) {
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += line + "\n" + std::string(indent, ' ');
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    return out + line;
}

// "a, b,,c" -> {"a", "b", "c"}: comma-separated items, trimmed, empty ones dropped.
inline std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        if (b != std::string::npos) items.push_back(item.substr(b, e - b + 1));
    }
    return items;
}

// {"a", "b"} -> "a,b", as HDF5 attributes list names; with separator ", ", as
// messages and --help list them (so that long lists wrap).
inline std::string join_list(const std::vector<std::string>& items, const std::string& separator = ",") {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
    return text;
}

// A decimal number as a person writes it: an optional sign, digits with at most one
// '.', an optional exponent (2.5, -3, 1e6, .5). Hexadecimal, inf, nan, blanks and
// trailing text are refused, where strtod would accept them.
inline bool parse_decimal(const std::string& text, double& value) {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        return i - start;
    };
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t mantissa = digits();
    if (i < text.size() && text[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return false;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    if (i != text.size()) return false;
    value = std::strtod(text.c_str(), nullptr);
    return std::isfinite(value);
}

// A whole number in [min, max] given as a decimal (1000, 1e6), for flags such as
// --samples; a ConfigError "WHAT = 'TEXT': must be a whole number in [MIN, MAX]".
inline double parse_whole_number(const std::string& text, const std::string& what, double min, double max) {
    double value = 0.0;
    if (!parse_decimal(text, value) || std::floor(value) != value || value < min || value > max) {
        throw ConfigError(what + " = '" + text + "': must be a whole number in [" + format_number(min) + ", " +
                          format_number(max) + "]");
    }
    return value;
}

// Text from a user or a file as it may appear in a one-line message: control
// characters and bytes that are not UTF-8 as \xNN escapes, and at most `limit` bytes
// of it, the rest summarized ("... (N more bytes)").
inline std::string printable(const std::string& text, std::size_t limit = 200) {
    std::string out;
    std::size_t i = 0;
    for (; i < text.size() && out.size() < limit; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool valid = length > 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
        if (valid && length == 1 && c >= 0x20 && c != 0x7F) {
            out += text[i];
        } else if (valid && length > 1) {
            out += text.substr(i, length);
            i += length - 1;
        } else {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\x%02X", c);
            out += escape;
        }
    }
    if (i < text.size()) out += "... (" + std::to_string(text.size() - i) + " more bytes)";
    return out;
}

// Whether `text` holds a control character (newline, tab, NUL, ...): such values
// cannot be written into an INI file or a one-line message as they are.
inline bool has_control_character(const std::string& text) {
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F) return true;
    }
    return false;
}

}  // namespace sgnn
