// An observed series as a file: a CSV with a header row, one row per day and one
// numeric column per series of the model (a column named day, date or t is ignored).
// A spreadsheet's UTF-8 byte order mark and CRLF line ends are accepted; numbers are
// decimal (no hexadecimal); an empty, NA or NaN cell is a missing value.
#pragma once

#include <string>
#include <vector>

namespace sgnn::io {

// The series as the network sees it, transformed like the training inputs
// (`transform` = log1p or identity), channels one after the other. Throws ConfigError
// naming the file, the row and the column of what is wrong.
std::vector<float> read_observation_csv(const std::string& path, int days, int channels, const std::string& transform,
                                        bool missing_allowed);

}  // namespace sgnn::io
