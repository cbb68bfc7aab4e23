#include "sgnn/io/csv.hpp"

#include "sgnn/io/atomic_file.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace sgnn::io {

CsvTable::CsvTable(std::string path, std::vector<std::string> columns)
    : path_(std::move(path)), columns_(std::move(columns)) {}

void CsvTable::add_row(const std::vector<double>& values) {
    if (values.size() != columns_.size()) throw std::logic_error("CSV row width does not match its header");
    for (std::size_t i = 0; i < values.size(); ++i) {
        char cell[32];
        if (std::isnan(values[i])) {
            cell[0] = '\0';  // pandas reads an empty cell as NaN
        } else {
            std::snprintf(cell, sizeof cell, "%.9g", values[i]);
        }
        body_ += (i == 0 ? "" : ",") + std::string(cell);
    }
    body_ += '\n';
}

void CsvTable::add_text_row(const std::vector<std::string>& cells) {
    if (cells.size() != columns_.size()) throw std::logic_error("CSV row width does not match its header");
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string& cell = cells[i];
        body_ += i == 0 ? "" : ",";
        if (cell.find_first_of(",\"\n\r") == std::string::npos) {
            body_ += cell;
            continue;
        }
        body_ += '"';
        for (char c : cell) body_ += c == '"' ? std::string("\"\"") : std::string(1, c);
        body_ += '"';
    }
    body_ += '\n';
}

std::string CsvTable::text() const {
    std::string header;
    for (std::size_t i = 0; i < columns_.size(); ++i) header += (i == 0 ? "" : ",") + columns_[i];
    return header + '\n' + body_;
}

void CsvTable::save() const { write_file_atomically(path_, text()); }

void CsvTable::restore(const std::string& text) {
    const std::size_t end_of_header = text.find('\n');
    const std::string header = text.substr(0, end_of_header);
    const std::string mine = this->text();
    if (header != mine.substr(0, mine.find('\n'))) {
        throw std::runtime_error(path_ + ": the saved table has other columns (" + header + ")");
    }
    body_ = end_of_header == std::string::npos ? std::string() : text.substr(end_of_header + 1);
}

}  // namespace sgnn::io
