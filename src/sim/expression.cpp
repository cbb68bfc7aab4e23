#include "sgnn/sim/expression.hpp"

#include <muParser.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
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

// A product chain: factors that are names or numbers, joined by * and / with no
// parentheses (beta * S * I / N, sigma * E). Most rates are one, and evaluating it
// directly, left to right as written (as C++ and muParser do), takes a few ns against
// muParser's 18: the rates are evaluated per trajectory and step, and this is what
// brings model files near the speed of the hand-written models.
struct ProductChain {
    struct Factor {
        const double* value;  // a name's value, or &constant
        double constant;
        bool divides;
    };
    std::vector<Factor> factors;

    double evaluate() const {
        double result = *factors[0].value;
        for (std::size_t i = 1; i < factors.size(); ++i) {
            const double x = *factors[i].value;
            result = factors[i].divides ? result / x : result * x;
        }
        return result;
    }
};

// The chain `text` is, with names looked up among the first `limit` symbols; false
// when it is anything else (the expression is then left to muParser).
bool parse_product_chain(const std::string& text, const std::vector<std::string>& symbols, int limit, double* values,
                         ProductChain& chain) {
    std::vector<std::pair<std::string, bool>> factors;  // (text, divides)
    std::size_t begin = 0;
    bool divides = false;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && text[i] != '*' && text[i] != '/') continue;
        const std::size_t first = text.find_first_not_of(" \t", begin);
        const std::size_t last = text.find_last_not_of(" \t", i == 0 ? 0 : i - 1);
        if (first == std::string::npos || first >= i || last < first) return false;
        factors.emplace_back(text.substr(first, last - first + 1), divides);
        if (i < text.size()) divides = text[i] == '/';
        begin = i + 1;
    }
    for (auto& [factor, divide] : factors) {
        ProductChain::Factor f{nullptr, 0.0, divide};
        const auto symbol = std::find(symbols.begin(), symbols.begin() + limit, factor);
        if (symbol != symbols.begin() + limit) {
            f.value = values + (symbol - symbols.begin());
        } else if (factor == "pi") {
            f.constant = kPi;
        } else {
            // A plain decimal number, wholly: no sign, name or operator left over.
            if (factor.find_first_not_of("0123456789.eE+-") != std::string::npos ||
                !std::isdigit(static_cast<unsigned char>(factor[0])))
                return false;
            char* end = nullptr;
            f.constant = std::strtod(factor.c_str(), &end);
            if (end != factor.c_str() + factor.size()) return false;
        }
        chain.factors.push_back(f);
    }
    // Constants point at their own storage, now that the vector no longer grows.
    for (auto& f : chain.factors) {
        if (!f.value) f.value = &f.constant;
    }
    return true;
}

}  // namespace

struct ExpressionTable::Compiled {
    mu::Parser parser;
    std::vector<int> used;
    bool is_chain = false;
    ProductChain chain;  // when is_chain
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
    // Checked by muParser above, so a chain is well formed; parsed here for speed.
    compiled->is_chain = parse_product_chain(text, symbols_, limit, values_.data(), compiled->chain);
    compiled_.push_back(std::move(compiled));
    return static_cast<int>(compiled_.size()) - 1;
}

double ExpressionTable::evaluate(int expression) const {
    const Compiled& compiled = *compiled_[static_cast<std::size_t>(expression)];
    return compiled.is_chain ? compiled.chain.evaluate() : compiled.parser.Eval();
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
