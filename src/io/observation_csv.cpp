#include "sgnn/io/observation_csv.hpp"

#include "sgnn/error.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace sgnn::io {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

std::string lowercase(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trimmed(std::string cell) {
    cell.erase(0, cell.find_first_not_of(" \t"));
    cell.erase(cell.find_last_not_of(" \t\r") + 1);
    return cell;
}

std::vector<std::string> split_row(const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream stream(line);
    for (std::string cell; std::getline(stream, cell, ',');) cells.push_back(trimmed(cell));
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    return cells;
}

bool is_time_column(const std::string& name) {
    return name == "date" || name == "dates" || name == "day" || name == "t";
}

bool is_series_column(const std::string& name) { return name == "series" || name == "id" || name == "series_id"; }

bool is_missing(const std::string& cell) {
    const std::string lower = lowercase(cell);
    return cell.empty() || lower == "na" || lower == "nan";
}

// One parsed data row: its time (a day number) and its numeric cells.
struct Row {
    int line = 0;        // row number in the file, the header being row 0
    std::string series;  // long layout: the series it belongs to
    std::optional<std::int64_t> time;
    std::string time_text;
    std::vector<double> values;  // one per value column, NaN for missing
};

class CsvReader {
public:
    CsvReader(std::string path, int channels) : path_(std::move(path)), channels_(channels) {}

    std::vector<ObservedSeries> read() {
        std::error_code error;
        if (!std::filesystem::is_regular_file(path_, error)) {
            fail("not a readable file (a CSV with a header row, then one row per day)");
        }
        std::ifstream in(path_);
        if (!in) fail("cannot be read");
        std::string line;
        if (!std::getline(in, line)) fail("empty file (a header row, then one row per day)");
        // A spreadsheet's UTF-8 byte order mark is not part of the first column's name.
        if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
        header_ = split_row(line);
        for (auto& name : header_) name = lowercase(name);
        for (std::size_t c = 0; c < header_.size(); ++c) {
            if (is_time_column(header_[c])) {
                if (time_ >= 0) fail("two time columns ('" + header_[time_] + "' and '" + header_[c] + "'); keep one");
                time_ = static_cast<int>(c);
            } else if (is_series_column(header_[c])) {
                series_ = static_cast<int>(c);
            } else {
                value_columns_.push_back(static_cast<int>(c));
            }
        }
        if (value_columns_.empty()) fail("no column of counts (the header names only a time or series column)");
        if (series_ >= 0 && time_ < 0) {
            fail("a long file (column '" + header_[series_] + "') needs a time column: date, dates, day or t");
        }
        if (series_ >= 0 && static_cast<int>(value_columns_.size()) != channels_) {
            fail(std::to_string(value_columns_.size()) + " value column(s) beside '" + header_[series_] +
                 "', but the model sees " + std::to_string(channels_) + " series per sample; give one column each");
        }
        if (series_ < 0 && channels_ > 1 && static_cast<int>(value_columns_.size()) != channels_) {
            fail(std::to_string(value_columns_.size()) + " data column(s), but the model sees " +
                 std::to_string(channels_) + " series; give one column per series (day/date/t columns are ignored)");
        }
        std::vector<Row> rows;
        for (int number = 1; std::getline(in, line); ++number) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            rows.push_back(parse(line, number));
        }
        if (rows.empty()) fail("no data rows after the header");
        return series_ >= 0 ? long_series(rows) : wide_series(rows);
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw ConfigError("--data " + path_ + ": " + what); }
    [[noreturn]] void fail_at(const Row& row, const std::string& what) const {
        fail("row " + std::to_string(row.line) + ": " + what);
    }

    Row parse(const std::string& line, int number) const {
        std::vector<std::string> cells = split_row(line);
        Row row;
        row.line = number;
        if (cells.size() > header_.size()) {
            fail_at(row, std::to_string(cells.size()) + " cells for " + std::to_string(header_.size()) + " columns");
        }
        cells.resize(header_.size());
        if (series_ >= 0) {
            row.series = cells[static_cast<std::size_t>(series_)];
            if (row.series.empty()) fail_at(row, "no series name in column '" + header_[series_] + "'");
        }
        if (time_ >= 0) {
            row.time_text = cells[static_cast<std::size_t>(time_)];
            const std::string& column = header_[static_cast<std::size_t>(time_)];
            if (row.time_text.empty()) fail_at(row, "no " + column);
            if (column == "date" || column == "dates") {
                row.time = parse_iso_date(row.time_text);
                if (!row.time) {
                    fail_at(row, "'" + printable(row.time_text) + "' in column '" + column +
                                     "' is not a date written YYYY-MM-DD");
                }
            } else {
                double t = 0.0;
                if (!parse_decimal(row.time_text, t) || std::floor(t) != t || std::fabs(t) > 1e9) {
                    fail_at(row, "'" + printable(row.time_text) + "' in column '" + column + "' is not a whole number");
                }
                row.time = static_cast<std::int64_t>(t);
            }
        }
        for (const int c : value_columns_) {
            const std::string& cell = cells[static_cast<std::size_t>(c)];
            double v = kMissing;
            if (!is_missing(cell)) {
                if (!parse_decimal(cell, v) || !std::isfinite(v)) {
                    fail_at(row, "column '" + printable(header_[static_cast<std::size_t>(c)]) + "': '" +
                                     printable(cell) + "' is not a decimal number");
                }
            }
            row.values.push_back(v);
        }
        return row;
    }

    // The entries of one series from its rows in time order: a gap in time leaves the
    // entries between missing; time going back or standing still is an error.
    ObservedSeries assemble(const std::string& name, const std::vector<const Row*>& rows, int channels,
                            const std::vector<int>& columns) const {
        ObservedSeries s;
        s.name = name;
        std::vector<std::vector<double>> by_channel(static_cast<std::size_t>(channels));
        const std::string what = series_ >= 0 ? "series '" + printable(name) + "': " : "";
        for (std::size_t k = 0; k < rows.size(); ++k) {
            const Row& row = *rows[k];
            if (k > 0 && row.time) {
                const Row& before = *rows[k - 1];
                const std::int64_t step = *row.time - *before.time;
                const std::string column = header_[static_cast<std::size_t>(time_)];
                if (step == 0) {
                    fail_at(row, what + column + " " + printable(row.time_text) + " is duplicated (row " +
                                     std::to_string(before.line) + ")");
                }
                if (step < 0) {
                    fail_at(row, what + column + " " + printable(row.time_text) + " is earlier than " +
                                     printable(before.time_text) + " in row " + std::to_string(before.line) +
                                     "; sort the rows by " + column);
                }
                if (step > 3660) fail_at(row, what + column + " jumps by " + std::to_string(step) + " days");
                for (std::int64_t gap = 1; gap < step; ++gap) {
                    for (auto& channel : by_channel) channel.push_back(kMissing);
                }
            }
            for (int c = 0; c < channels; ++c) {
                by_channel[static_cast<std::size_t>(c)].push_back(row.values[static_cast<std::size_t>(columns[c])]);
            }
        }
        s.length = static_cast<int>(by_channel.front().size());
        for (const auto& channel : by_channel) s.values.insert(s.values.end(), channel.begin(), channel.end());
        const std::string& column = time_ >= 0 ? header_[static_cast<std::size_t>(time_)] : std::string();
        if (column == "date" || column == "dates") {
            s.first_day = rows.front()->time;
            s.first_date = rows.front()->time_text;
        }
        return s;
    }

    std::vector<ObservedSeries> long_series(const std::vector<Row>& rows) const {
        std::vector<std::string> order;
        std::map<std::string, std::vector<const Row*>> by_name;
        for (const Row& row : rows) {
            auto& list = by_name[row.series];
            if (list.empty()) order.push_back(row.series);
            list.push_back(&row);
        }
        std::vector<int> columns(static_cast<std::size_t>(channels_));
        for (int c = 0; c < channels_; ++c) columns[static_cast<std::size_t>(c)] = c;
        std::vector<ObservedSeries> out;
        for (const auto& name : order) out.push_back(assemble(name, by_name[name], channels_, columns));
        return out;
    }

    std::vector<ObservedSeries> wide_series(const std::vector<Row>& rows) const {
        std::vector<const Row*> all;
        for (const Row& row : rows) all.push_back(&row);
        if (channels_ > 1) {
            std::vector<int> columns(static_cast<std::size_t>(channels_));
            for (int c = 0; c < channels_; ++c) columns[static_cast<std::size_t>(c)] = c;
            return {assemble(std::filesystem::path(path_).stem().string(), all, channels_, columns)};
        }
        // One series per column, from its first to its last value: series of different
        // lengths share a file with empty cells before and after them.
        std::vector<ObservedSeries> out;
        for (std::size_t k = 0; k < value_columns_.size(); ++k) {
            const auto has_value = [&](const Row* row) { return !std::isnan(row->values[k]); };
            const auto first = std::find_if(all.begin(), all.end(), has_value);
            const std::string name = header_[static_cast<std::size_t>(value_columns_[k])];
            if (first == all.end()) fail("column '" + printable(name) + "' holds no values");
            const auto last = std::find_if(all.rbegin(), all.rend(), has_value).base();
            out.push_back(assemble(value_columns_.size() == 1 ? std::filesystem::path(path_).stem().string() : name,
                                   std::vector<const Row*>(first, last), 1, {static_cast<int>(k)}));
        }
        return out;
    }

    std::string path_;
    int channels_;
    std::vector<std::string> header_;
    int time_ = -1, series_ = -1;
    std::vector<int> value_columns_;
};

}  // namespace

std::optional<std::int64_t> parse_iso_date(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    for (const std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    }
    const int year = std::stoi(text.substr(0, 4)), month = std::stoi(text.substr(5, 2)),
              day = std::stoi(text.substr(8, 2));
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int days_in[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > days_in[month - 1]) return std::nullopt;
    // Days from civil (Howard Hinnant's algorithm): March-based years, 400-year eras.
    const int y = year - (month <= 2 ? 1 : 0);
    const int era = y / 400;  // years are 0000-9999 here, never negative
    const int year_of_era = y - era * 400;
    const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return static_cast<std::int64_t>(era) * 146097 + day_of_era - 719468;
}

std::vector<ObservedSeries> read_observed_series(const std::string& path, int channels) {
    return CsvReader(path, channels).read();
}

std::vector<float> read_observation_csv(const std::string& path, int days, int channels, const std::string& transform,
                                        bool missing_allowed) {
    const std::vector<ObservedSeries> all = read_observed_series(path, channels);
    if (all.size() != 1) {
        throw ConfigError("--data " + path + ": " + std::to_string(all.size()) +
                          " series; this command reads one per file (one column of counts)");
    }
    const ObservedSeries& s = all.front();
    if (s.length != days) {
        throw ConfigError("--data " + path + ": " + std::to_string(s.length) + " rows, but the model sees " +
                          std::to_string(days) + " (sim.days); give exactly that many days");
    }
    std::vector<float> inputs;
    for (std::size_t k = 0; k < s.values.size(); ++k) {
        const double v = s.values[k];
        const int row = static_cast<int>(k % static_cast<std::size_t>(days)) + 1;
        if (std::isnan(v)) {
            if (!missing_allowed) {
                throw ConfigError("--data " + path + ": day " + std::to_string(row) +
                                  " has an empty value; the model was trained without missing values (obs.steps has "
                                  "no 'missing')");
            }
            inputs.push_back(-1.0f);  // how the missing step feeds a missing entry
            continue;
        }
        if (transform == "log1p" && v < 0) {
            throw ConfigError("--data " + path + ": day " + std::to_string(row) + ": " + format_number(v) +
                              " is negative; the model sees counts through log(1 + x)");
        }
        inputs.push_back(static_cast<float>(transform == "log1p" ? std::log1p(v) : v));
    }
    return inputs;
}

}  // namespace sgnn::io
