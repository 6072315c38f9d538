#include "results/filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "common/error.h"

namespace fersweep::results {
namespace {

struct Token {
  enum Kind { kWord, kString, kOperator, kOpen, kClose, kComma, kEnd } kind;
  std::string text;
  size_t position;
};

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == '+';
}

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  const auto fail = [&](size_t at, const std::string& why) {
    throw InputError(fmt::format("--where: {} at column {}: \"{}\"", why, at + 1, s));
  };
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'' || c == '"') {
      const size_t end = s.find(c, i + 1);
      if (end == std::string::npos) fail(i, "unterminated quoted string");
      out.push_back({Token::kString, s.substr(i + 1, end - i - 1), i});
      i = end + 1;
    } else if (c == '[') {  // a list value, compared as the JSON text of the parameter
      const size_t end = s.find(']', i);
      if (end == std::string::npos) fail(i, "unterminated [list]");
      std::string list;
      for (size_t k = i; k <= end; ++k) {
        if (!std::isspace(static_cast<unsigned char>(s[k]))) list += s[k];
      }
      out.push_back({Token::kString, list, i});
      i = end + 1;
    } else if (c == '(' || c == ')' || c == ',') {
      out.push_back({c == '('   ? Token::kOpen
                     : c == ')' ? Token::kClose
                                : Token::kComma,
                     std::string(1, c), i});
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      std::string op(1, c);
      if (i + 1 < s.size() && s[i + 1] == '=') op += '=';
      if (op == "!") fail(i, "expected != ");
      out.push_back({Token::kOperator, op, i});
      i += op.size();
    } else if (word_char(c)) {
      const size_t start = i;
      while (i < s.size() && word_char(s[i])) ++i;
      out.push_back({Token::kWord, s.substr(start, i - start), start});
    } else {
      fail(i, fmt::format("unexpected character '{}'", c));
    }
  }
  out.push_back({Token::kEnd, "", s.size()});
  return out;
}

bool identifier(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::variant<double, std::string> literal(const Token& t) {
  if (t.kind == Token::kWord) {
    double number = 0;
    const char* end = t.text.data() + t.text.size();
    const auto [ptr, ec] = std::from_chars(t.text.data(), end, number);
    if (ec == std::errc() && ptr == end) return number;
  }
  return t.text;
}

class Compiler {
 public:
  Compiler(const std::string& text, const std::vector<std::string>& parameters,
           const std::vector<std::string>& metrics)
      : text_(text), tokens_(tokenize(text)), parameters_(parameters), metrics_(metrics) {}

  CompiledFilter compile() {
    CompiledFilter out;
    if (peek().kind == Token::kEnd) return out;
    for (;;) {
      clause(out);
      if (peek().kind == Token::kEnd) return out;
      const Token& joiner = next();
      if (joiner.kind != Token::kWord || lower(joiner.text) != "and") {
        fail(joiner, "expected \"and\" between clauses");
      }
      out.sql += " AND ";
    }
  }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  const Token& peek() const { return tokens_[at_]; }
  const Token& next() { return tokens_[at_ < tokens_.size() - 1 ? at_++ : at_]; }
  [[noreturn]] void fail(const Token& t, const std::string& why) const {
    throw InputError(fmt::format("--where: {} at column {}: \"{}\"", why, t.position + 1, text_));
  }

  // The SQL of a field, with its name bound where it is a parameter or a metric.
  std::string field(const Token& t, CompiledFilter& out) {
    if (t.kind != Token::kWord) fail(t, "expected a field name");
    std::string name = t.text;
    std::string kind;
    if (name.starts_with("params.")) {
      kind = "param", name = name.substr(7);
    } else if (name.starts_with("metrics.")) {
      kind = "metric", name = name.substr(8);
    } else if (name == "status" || name == "epochs" || name == "trial") {
      return name == "status" ? "t.status" : name == "epochs" ? "t.epochs_completed" : "t.id";
    } else if (std::find(parameters_.begin(), parameters_.end(), name) != parameters_.end()) {
      kind = "param";
    } else if (std::find(metrics_.begin(), metrics_.end(), name) != metrics_.end()) {
      kind = "metric";
    } else {
      fail(t, fmt::format("unknown field \"{}\" (status, epochs, trial, parameters: {}; "
                          "metrics: {})",
                          name, fmt::join(parameters_, ", "), fmt::join(metrics_, ", ")));
    }
    if (!identifier(name)) fail(t, fmt::format("bad {} name \"{}\"", kind, name));
    if (kind == "param") {
      out.bindings.emplace_back(fmt::format("$.\"{}\"", name));
      return "json_extract(t.params_json, ?)";
    }
    out.bindings.emplace_back(name);
    return "(SELECT m.value FROM trial_metrics m WHERE m.trial_id = t.id AND m.name = ?)";
  }

  void clause(CompiledFilter& out) {
    const std::string lhs = field(next(), out);
    const Token& op = next();
    if (op.kind == Token::kWord && lower(op.text) == "in") {
      if (next().kind != Token::kOpen) fail(op, "expected ( after in");
      std::vector<std::string> marks;
      for (;;) {
        const Token& value = next();
        if (value.kind != Token::kWord && value.kind != Token::kString) {
          fail(value, "expected a value");
        }
        out.bindings.push_back(literal(value));
        marks.emplace_back("?");
        const Token& after = next();
        if (after.kind == Token::kClose) break;
        if (after.kind != Token::kComma) fail(after, "expected , or )");
      }
      out.sql += fmt::format("{} IN ({})", lhs, fmt::join(marks, ", "));
      return;
    }
    if (op.kind != Token::kOperator) fail(op, "expected an operator (= != < <= > >= in)");
    const Token& value = next();
    if (value.kind != Token::kWord && value.kind != Token::kString) {
      fail(value, "expected a value");
    }
    out.bindings.push_back(literal(value));
    out.sql += fmt::format("{} {} ?", lhs, op.text == "=" ? "=" : op.text);
  }

  const std::string& text_;
  std::vector<Token> tokens_;
  size_t at_ = 0;
  const std::vector<std::string>& parameters_;
  const std::vector<std::string>& metrics_;
};

}  // namespace

CompiledFilter compile_filter(const std::string& text, const std::vector<std::string>& parameters,
                              const std::vector<std::string>& metrics) {
  return Compiler(text, parameters, metrics).compile();
}

}  // namespace fersweep::results
