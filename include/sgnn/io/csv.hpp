// A CSV table kept in memory and rewritten atomically on every save, so that the file
// on disk is always complete (pandas.read_csv opens it at any moment).
#pragma once

#include <string>
#include <vector>

namespace sgnn::io {

class CsvTable {
public:
    CsvTable(std::string path, std::vector<std::string> columns);
    void add_row(const std::vector<double>& values);
    // Cells as text (names, hashes, prior specs), quoted where CSV needs it.
    void add_text_row(const std::vector<std::string>& cells);
    void save() const;
    // The file's content (header and rows), and the inverse: rows of an earlier run of
    // the same table (a resumed run keeps its metrics). Throws if the header differs.
    std::string text() const;
    void restore(const std::string& text);

private:
    std::string path_;
    std::vector<std::string> columns_;
    std::string body_;
};

}  // namespace sgnn::io
