// Observed series as files: what `sgnn predict`, `sgnn attribute` and the experiments
// read. A CSV with a header row and one row per day (or per entry of the series), in
// one of two layouts:
//
//   wide  a time column (optional), then one numeric column per series: each column
//         is a series named by its header. A model with several channels (prey and
//         predators) reads its channels' columns as one series instead, named after
//         the file.
//   long  a column `series` (or `id`, `series_id`) naming each row's series, a time
//         column, and one numeric column per channel; a series' rows may be anywhere.
//
// The time column is the one named date, dates, day or t (any case). Dates are
// ISO 8601 (2009-04-27); day and t are whole numbers. Within a series the time must
// increase; a gap of several days leaves the days between missing. A wide file's
// series may start and end at different rows: leading and trailing empty cells are
// not part of it. A spreadsheet's UTF-8 byte order mark and CRLF line ends are
// accepted; numbers are decimal; an empty, NA or NaN cell is a missing value.
// Every problem is a ConfigError naming the file, the row and the column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sgnn::io {

struct ObservedSeries {
    std::string name;
    // channels x length values as read (NaN: missing), channels one after the other.
    std::vector<double> values;
    int length = 0;  // entries per channel
    // Days since 1970-01-01 of the first entry, when the file has a date column: what
    // puts weekday effects on the right weekday.
    std::optional<std::int64_t> first_day;
    std::string first_date;  // as written in the file ("" without a date column)
};

// Every series in `path` for a model with `channels` series per sample. Throws
// ConfigError naming the file (and row and column) for an empty file, text in a count,
// a time column out of order or duplicated, or a layout that does not fit.
std::vector<ObservedSeries> read_observed_series(const std::string& path, int channels);

// One series of exactly `days` entries per channel, as the network sees it: obs.transform
// (`transform` = log1p or identity) applied, missing values fed as -1 (allowed only if
// `missing_allowed`), channels one after the other. For files that hold one series.
std::vector<float> read_observation_csv(const std::string& path, int days, int channels, const std::string& transform,
                                        bool missing_allowed);

// Days since 1970-01-01 of an ISO date "YYYY-MM-DD" (proleptic Gregorian), or nothing.
std::optional<std::int64_t> parse_iso_date(const std::string& text);

}  // namespace sgnn::io
