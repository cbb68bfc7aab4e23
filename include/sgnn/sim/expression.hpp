// Arithmetic expressions of model files (sim/model_file.hpp), compiled once and then
// evaluated many times over a table of named values: a rate per step of a trajectory.
// muParser does the parsing and evaluation (about 18 ns per evaluation); it stays
// inside expression.cpp. A plain product chain of names and numbers (beta * S * I / N,
// the form of most rates) is then evaluated directly, left to right as written (the
// order of C++ and of the built-in models), in a few nanoseconds.
//
// The language: numbers (2, 0.5, 1e-3), names, + - * / and ^ (power), parentheses,
// comparisons (< <= > >= == !=) with && and ||, COND ? A : B, the functions exp, log
// (natural), log10, sqrt, abs, min, max, sin, cos, tan, step (step(x) = 1 for x >= 0,
// else 0) and the constant pi.
//
// Not thread-safe: a table is used by one thread at a time. Simulations compile one
// table per block of trajectories (a few microseconds) and load each trajectory's
// values into it before evaluating.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace sgnn::sim {

// A compile error: what is wrong, and where in the expression (0-based character).
class ExpressionError : public std::runtime_error {
public:
    ExpressionError(const std::string& message, int position) : std::runtime_error(message), position_(position) {}
    int position() const { return position_; }

private:
    int position_;
};

class ExpressionTable {
public:
    // The names expressions may use; value(i) is symbols[i]'s value.
    explicit ExpressionTable(std::vector<std::string> symbols);
    ~ExpressionTable();
    ExpressionTable(const ExpressionTable&) = delete;
    ExpressionTable& operator=(const ExpressionTable&) = delete;

    // Compiles `text` using only the symbols in use_limit first symbols (-1: every
    // symbol); returns its index for evaluate(). Throws ExpressionError for a syntax
    // error or a name that is not among them ("unknown symbol 'gama'").
    int compile(const std::string& text, int use_limit = -1);
    // The compiled expression's value with the table's current values.
    double evaluate(int expression) const;
    // Indices of the symbols the expression uses, ascending.
    const std::vector<int>& symbols_used(int expression) const;

    double& value(int symbol) { return values_[static_cast<std::size_t>(symbol)]; }
    double* values() { return values_.data(); }
    const std::vector<std::string>& symbols() const { return symbols_; }

private:
    struct Compiled;
    std::vector<std::string> symbols_;
    std::vector<double> values_;  // never resized: the compiled expressions point into it
    std::vector<std::unique_ptr<Compiled>> compiled_;
};

// Whether `name` is a function or constant of the language (exp, min, pi, ...): a
// model may not name a parameter, compartment or quantity that.
bool is_reserved_name(const std::string& name);

}  // namespace sgnn::sim
