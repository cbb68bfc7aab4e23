// Small text helpers shared by help, error messages and progress lines.
#pragma once

#include <cmath>
#include <cstdio>
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

// {"a", "b"} -> "a,b", as HDF5 attributes list names.
inline std::string join_list(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ",") + item;
    return text;
}

}  // namespace sgnn
