#include "sgnn/io/observation_csv.hpp"

#include "sgnn/error.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sgnn::io {
namespace {

std::string lowercase(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

std::vector<float> read_observation_csv(const std::string& path, int days, int channels, const std::string& transform,
                                        bool missing_allowed) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {
        throw ConfigError("--data " + path + ": not a readable file (a CSV with a header row, then one row per day)");
    }
    std::ifstream in(path);
    if (!in) throw ConfigError("--data " + path + ": cannot be read");
    std::string line;
    if (!std::getline(in, line))
        throw ConfigError("--data " + path + ": empty file (a header row, then one row per day)");
    // A spreadsheet's UTF-8 byte order mark is not part of the first column's name.
    if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> header;
    std::stringstream head(line);
    for (std::string cell; std::getline(head, cell, ',');) {
        cell.erase(0, cell.find_first_not_of(" \t"));
        cell.erase(cell.find_last_not_of(" \t") + 1);
        header.push_back(lowercase(cell));
    }
    std::vector<std::size_t> columns;
    for (std::size_t c = 0; c < header.size(); ++c) {
        const std::string name = header[c];
        if (name == "day" || name == "date" || name == "t") continue;
        columns.push_back(c);
    }
    if (static_cast<int>(columns.size()) != channels) {
        throw ConfigError("--data " + path + ": " + std::to_string(columns.size()) + " data column(s), but the model " +
                          "sees " + std::to_string(channels) +
                          " series; give one column per series (day/date/t "
                          "columns are ignored)");
    }
    std::vector<std::vector<float>> series(static_cast<std::size_t>(channels));
    int row = 0;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        ++row;
        std::vector<std::string> cells;
        std::stringstream stream(line);
        for (std::string cell; std::getline(stream, cell, ',');) cells.push_back(cell);
        cells.resize(header.size());
        for (int c = 0; c < channels; ++c) {
            std::string cell = cells[columns[static_cast<std::size_t>(c)]];
            cell.erase(0, cell.find_first_not_of(" \t"));
            cell.erase(cell.find_last_not_of(" \t\r") + 1);
            float value;
            if (cell.empty() || lowercase(cell) == "na" || lowercase(cell) == "nan") {
                if (!missing_allowed) {
                    throw ConfigError("--data " + path + ": row " + std::to_string(row) +
                                      " has an empty value; the "
                                      "model was trained without missing values (obs.steps has no 'missing')");
                }
                value = -1.0f;  // how the missing step feeds a missing entry
            } else {
                double v = 0.0;
                if (!parse_decimal(cell, v)) {
                    throw ConfigError("--data " + path + ": row " + std::to_string(row) + ", column '" +
                                      printable(header[columns[static_cast<std::size_t>(c)]]) + "': '" +
                                      printable(cell) + "' is not a decimal number");
                }
                if (transform == "log1p" && v < 0) {
                    throw ConfigError("--data " + path + ": row " + std::to_string(row) + ": " + printable(cell) +
                                      " is negative; the model sees counts through log(1 + x)");
                }
                value = static_cast<float>(transform == "log1p" ? std::log1p(v) : v);
            }
            series[static_cast<std::size_t>(c)].push_back(value);
        }
    }
    if (row != days) {
        throw ConfigError("--data " + path + ": " + std::to_string(row) + " rows, but the model sees " +
                          std::to_string(days) + " (sim.days); give exactly that many days");
    }
    std::vector<float> inputs;
    for (const auto& s : series) inputs.insert(inputs.end(), s.begin(), s.end());  // channels one after the other
    return inputs;
}

}  // namespace sgnn::io
