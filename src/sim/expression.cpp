#include "sgnn/sim/expression.hpp"

#include <muParser.h>

#include <algorithm>
#include <set>

namespace sgnn::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;  // muParser's _pi has 13 digits only

double step_function(double x) { return x >= 0.0 ? 1.0 : 0.0; }

// muParser's message for the cases a model writer meets, in the model file's words.
std::string message_of(const mu::Parser::exception_type& error) {
    switch (error.GetCode()) {
        case mu::ecUNASSIGNABLE_TOKEN:
            return "unknown symbol '" + error.GetToken() + "'";
        case mu::ecUNEXPECTED_EOF:
            return "the expression ends too early";
        case mu::ecMISSING_PARENS:
            return "a parenthesis is not closed";
        case mu::ecUNEXPECTED_PARENS:
            return "a parenthesis closes nothing";
        case mu::ecUNEXPECTED_VAR:
        case mu::ecUNEXPECTED_VAL:
            return "'" + error.GetToken() + "' follows a value without an operator between them";
        case mu::ecEMPTY_EXPRESSION:
            return "the expression is empty";
        default:
            return error.GetMsg();
    }
}

}  // namespace

struct ExpressionTable::Compiled {
    mu::Parser parser;
    std::vector<int> used;
};

ExpressionTable::ExpressionTable(std::vector<std::string> symbols)
    : symbols_(std::move(symbols)), values_(symbols_.size(), 0.0) {}

ExpressionTable::~ExpressionTable() = default;

int ExpressionTable::compile(const std::string& text, int use_limit) {
    const int limit = use_limit < 0 ? static_cast<int>(symbols_.size()) : use_limit;
    auto compiled = std::make_unique<Compiled>();
    mu::Parser& parser = compiled->parser;
    try {
        parser.DefineConst("pi", kPi);
        parser.DefineFun("step", step_function);
        for (int i = 0; i < limit; ++i) parser.DefineVar(symbols_[static_cast<std::size_t>(i)], &values_[i]);
        parser.SetExpr(text);
        parser.Eval();  // muParser parses on the first evaluation: syntax errors surface here
        for (const auto& [name, address] : parser.GetUsedVar()) {
            compiled->used.push_back(static_cast<int>(address - values_.data()));
        }
    } catch (const mu::Parser::exception_type& error) {
        throw ExpressionError(message_of(error), static_cast<int>(std::max<std::ptrdiff_t>(0, error.GetPos())));
    }
    std::sort(compiled->used.begin(), compiled->used.end());
    compiled_.push_back(std::move(compiled));
    return static_cast<int>(compiled_.size()) - 1;
}

double ExpressionTable::evaluate(int expression) const {
    return compiled_[static_cast<std::size_t>(expression)]->parser.Eval();
}

const std::vector<int>& ExpressionTable::symbols_used(int expression) const {
    return compiled_[static_cast<std::size_t>(expression)]->used;
}

bool is_reserved_name(const std::string& name) {
    static const std::set<std::string> reserved = [] {
        std::set<std::string> names = {"pi", "step"};
        const mu::Parser parser;
        for (const auto& [function, callback] : parser.GetFunDef()) names.insert(function);
        for (const auto& [constant, value] : parser.GetConst()) names.insert(constant);
        return names;
    }();
    return reserved.count(name) > 0;
}

}  // namespace sgnn::sim
